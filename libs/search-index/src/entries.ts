import { sha256, type EpisodeRecord } from '@podline/config';
import type { Cue } from './srt';

/** An entry closes at a sentence end once it is this long… */
export const MIN_ENTRY_MS = 7_000;
/** …and never grows past this (unless one cue alone is longer). */
export const MAX_ENTRY_MS = 15_000;
/**
 * Version of the entry rules and file layout. Part of every entry file's source stamp,
 * so changing the rules rebuilds every entry file once.
 */
export const ENTRY_FORMAT = 1;

/** One searchable passage of an episode. */
export interface SearchEntry {
  /** `<first 16 hex of sha256(episode id)>-<start ms>`: stable across runs, renumbering and re-transcription of other episodes. */
  id: string;
  podcast: string;
  /** Episode publish time (ISO 8601), when the feed gives one. */
  published?: string;
  startMs: number;
  endMs: number;
  text: string;
}

/** The episode metadata an entry file carries (and is rebuilt when it changes). */
export interface EntryEpisode {
  id: string;
  podcast: string;
  fileKey: string;
  title: string;
  published?: string;
}

/** `search-entries/<podcast>/<fileKey>.json`. */
export interface EntryFile {
  format: number;
  episode: EntryEpisode;
  /** What the entries were built from: rebuilt exactly when this differs. */
  source: { srtSha256: string };
  entries: SearchEntry[];
}

export function episodeHash(episodeId: string): string {
  return sha256(episodeId).slice(0, 16);
}

export function entryId(episodeId: string, startMs: number): string {
  return `${episodeHash(episodeId)}-${startMs}`;
}

export function entryEpisode(ep: EpisodeRecord): EntryEpisode {
  return { id: ep.id, podcast: ep.podcast, fileKey: ep.fileKey, title: ep.title, published: ep.published };
}

// Latin, CJK and ellipsis sentence ends, optionally followed by closing quotes or brackets.
const SENTENCE_END = /[.!?…。！？‼⁇⁈⁉][\u201d"'\u2019\u00bb)\]]*$/u;

export function endsSentence(text: string): boolean {
  return SENTENCE_END.test(text);
}

/**
 * Group cues (sorted by start) into entries of about 7–15 s: an entry closes after a cue ending a sentence once
 * it spans >= 7 s, or once it spans >= 15 s; a cue that would push it past 15 s starts the next entry.
 * Overlapping cues are fine. An entry never closes while the next cue starts at the same instant, so two entries
 * of an episode never share a start — and so never an id.
 */
export function cuesToEntries(cues: Cue[], episode: EntryEpisode): SearchEntry[] {
  const out: SearchEntry[] = [];
  let cur: { startMs: number; endMs: number; texts: string[] } | undefined;
  const close = () => {
    if (!cur) return;
    out.push({
      id: entryId(episode.id, cur.startMs),
      podcast: episode.podcast,
      published: episode.published,
      startMs: cur.startMs,
      endMs: cur.endMs,
      text: cur.texts.join(' '),
    });
    cur = undefined;
  };
  cues.forEach((cue, i) => {
    if (cur && cue.startMs > cur.startMs && Math.max(cur.endMs, cue.endMs) - cur.startMs > MAX_ENTRY_MS) close();
    if (!cur) cur = { startMs: cue.startMs, endMs: cue.endMs, texts: [] };
    cur.texts.push(cue.text);
    cur.endMs = Math.max(cur.endMs, cue.endMs);
    const span = cur.endMs - cur.startMs;
    const next = cues[i + 1];
    const mayClose = !next || next.startMs > cur.startMs;
    if (mayClose && (span >= MAX_ENTRY_MS || (span >= MIN_ENTRY_MS && endsSentence(cue.text)))) close();
  });
  close();
  return out;
}

/** The complete entry file for an episode's SRT. */
export function buildEntryFile(episode: EntryEpisode, srtSha256: string, cues: Cue[]): EntryFile {
  return { format: ENTRY_FORMAT, episode, source: { srtSha256 }, entries: cuesToEntries(cues, episode) };
}

/** True when `existing` was built from exactly this SRT, metadata and rule version. */
export function isEntryFileCurrent(existing: EntryFile | undefined, episode: EntryEpisode, srtSha256: string): boolean {
  if (!existing || existing.format !== ENTRY_FORMAT || existing.source?.srtSha256 !== srtSha256) return false;
  const a = existing.episode;
  return a?.id === episode.id && a.podcast === episode.podcast && a.fileKey === episode.fileKey && a.title === episode.title && a.published === episode.published;
}
