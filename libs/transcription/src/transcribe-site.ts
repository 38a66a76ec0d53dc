import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import {
  fixOf,
  ifExists,
  keys,
  resolveFeedUrl,
  writeFileAtomic,
  type EpisodeManifest,
  type EpisodeRecord,
  type SiteConfig,
  type SitePaths,
} from '@podline/config';
import { untrustedUrlPolicy } from '@podline/feeds';
import { findFfmpeg, type FfmpegBinary } from '@podline/media';
import type { TaskProblem } from '@podline/report';
import type { EngineSettings } from './engine';
import { getEngine } from './engines';
import { resolveTranscribeOptions, type TranscribeOptions } from './options';
import { publisherTranscriptSrt } from './publisher';
import { loadSources, saveSources, type TranscriptSource } from './records';
import { toSrt } from './srt';
import { transcribeAudio } from './transcribe-audio';


export interface RunLog {
  info(msg: string): void;
  warn(msg: string): void;
  debug(msg: string): void;
  progress(msg: string): void;
}

/** One entry of the target's deterministic state: what transcript exists, and where it came from. */
export interface TranscriptState {
  key: string;
  sha256: string;
  source: string;
}

export interface TranscribeResult {
  /** Sorted by key; undefined in dry run. */
  state?: { transcripts: TranscriptState[] };
  counts: Record<string, number>;
  problems: TaskProblem[];
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

const readIfExists = (file: string) => ifExists(fsp.readFile(file));

function clock(seconds: number): string {
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(h ? 2 : 1, '0');
  return `${h ? `${h}:` : ''}${mm}:${String(s % 60).padStart(2, '0')}`;
}

/** Newest first (by publish time, then file key, which starts with the date). */
function newestFirst(a: EpisodeRecord, b: EpisodeRecord): number {
  const pa = a.published ? Date.parse(a.published) : -Infinity;
  const pb = b.published ? Date.parse(b.published) : -Infinity;
  if (pa !== pb) return pb - pa;
  return b.fileKey < a.fileKey ? -1 : b.fileKey > a.fileKey ? 1 : 0;
}

async function loadManifest(paths: SitePaths): Promise<EpisodeManifest | undefined> {
  const text = await readIfExists(paths.manifestFile);
  if (!text) return undefined;
  try {
    return JSON.parse(text.toString('utf8')) as EpisodeManifest;
  } catch (err) {
    throw new Error(`the episode manifest ${paths.manifestFile} is not valid JSON (${(err as Error).message}): run the rss target again`);
  }
}

/**
 * The `transcribe` step for one site: every downloaded episode without a transcript gets an SRT,
 * from the publisher's transcript when the feed links one, else from the engine (Whisper).
 * Incremental: an existing SRT is done unless its audio changed (or `force`). One episode at a
 * time, newest first; a failing episode is reported and the others go on.
 */
export async function transcribeSite(input: {
  workspaceRoot: string;
  site: SiteConfig;
  paths: SitePaths;
  options: TranscribeOptions;
  log: RunLog;
}): Promise<TranscribeResult> {
  const { workspaceRoot, site, paths, log } = input;
  const options = resolveTranscribeOptions(site, input.options);
  const counts: Record<string, number> = {};
  const count = (k: string, n = 1) => (counts[k] = (counts[k] ?? 0) + n);
  const problems: TaskProblem[] = [];

  const manifest = await loadManifest(paths);
  if (!manifest) {
    log.info('no episode manifest yet (run the rss target first): nothing to transcribe');
    return { state: options.dryRun ? undefined : { transcripts: [] }, counts, problems };
  }
  const sources = await loadSources(paths);
  const engineName = options.engine;
  const settings: EngineSettings = {
    workspaceRoot,
    model: options.model,
    language: site.transcription.language,
    prompt: site.transcription.prompt,
    threads: options.threads,
    beamSize: options.beamSize,
    debug: (m) => log.debug(m),
  };
  const feedUrls = new Map(site.podcasts.map((p) => [p.id, resolveFeedUrl(site, p.feedUrl)]));

  // What needs doing.
  const candidates = manifest.episodes.filter((e) => e.status === 'downloaded' && e.audio?.sha256);
  const todo: EpisodeRecord[] = [];
  for (const ep of candidates) {
    const key = keys.transcript(ep.podcast, ep.fileKey);
    // Only whether it is there: the SRT itself is read (and hashed) once, for the state at the end.
    const exists = (await ifExists(fsp.stat(paths.transcriptFile(ep.podcast, ep.fileKey)))) !== undefined;
    const rec = sources[key];
    if (!exists || options.force || (rec && rec.audioSha256 !== ep.audio!.sha256)) {
      todo.push(ep);
    } else if (rec && rec.source !== 'publisher' && (rec.engine !== engineName || rec.model !== settings.model || (rec.prompt ?? '') !== (settings.prompt ?? ''))) {
      // A different engine/model/prompt alone never re-transcribes hours of audio: only on request.
      count('outdated');
      log.debug(`${key}: made with ${rec.engine} ${rec.model}; kept (use --force to redo with ${engineName} ${settings.model})`);
    }
  }
  todo.sort(newestFirst);
  const selected = todo.slice(0, Math.min(options.maxEpisodes, todo.length));
  if (todo.length > selected.length) log.info(`${todo.length} episodes need transcripts; doing the newest ${selected.length} (maxEpisodes)`);

  const usePublisher = site.transcription.usePublisherTranscripts;
  if (options.dryRun) {
    for (const ep of selected) {
      const viaPublisher = usePublisher && ep.transcripts?.length;
      log.info(`would transcribe ${ep.podcast}/${ep.fileKey}${viaPublisher ? ' from the publisher transcript (else ' + engineName + ')' : ` with ${engineName} ${settings.model}`}`);
    }
    if (selected.length) count('wouldTranscribe', selected.length);
    // Say now if what the engine needs (its model…) is missing; nothing is fetched or loaded.
    if (selected.some((ep) => !(usePublisher && ep.transcripts?.length))) {
      try {
        await getEngine(engineName).check(settings);
      } catch (err) {
        const fix = fixOf(err);
        log.warn(`${(err as Error).message}${fix ? ` — ${fix}` : ''}`);
      }
    }
    return { state: undefined, counts, problems };
  }

  let ffmpeg: FfmpegBinary | undefined;
  for (const [i, ep] of selected.entries()) {
    const key = keys.transcript(ep.podcast, ep.fileKey);
    const file = paths.transcriptFile(ep.podcast, ep.fileKey);
    const label = `${ep.podcast}/${ep.fileKey} [${i + 1}/${selected.length}]`;
    const problem = (message: string, fix?: string) => {
      count('failed');
      problems.push({ site: site.id, podcast: ep.podcast, episode: ep.fileKey, file: ep.audio?.key ?? keys.audio(ep.podcast, ep.fileKey), message, fix });
    };
    let record: TranscriptSource | undefined;
    let srt: string | undefined;
    let publisherFailure: string | undefined;

    // 1. The publisher's own transcript, when the feed links one.
    if (usePublisher && ep.transcripts?.length) {
      try {
        const feedUrl = feedUrls.get(ep.podcast) ?? '';
        const got = await publisherTranscriptSrt(ep.transcripts, feedUrl, { policy: untrustedUrlPolicy(site, feedUrl) });
        if (got) {
          srt = got.srt;
          record = { source: 'publisher', url: got.url, format: got.format, audioSha256: ep.audio!.sha256, transcriptSha256: sha256(srt) };
          log.info(`${label}: publisher transcript (${got.format})`);
        }
      } catch (err) {
        publisherFailure = (err as Error).message;
        log.warn(`${label}: ${publisherFailure}; falling back to ${engineName}`);
      }
    }

    // 2. Else the engine.
    if (!srt) {
      try {
        if (!ffmpeg) {
          ffmpeg = findFfmpeg();
          log.debug(`ffmpeg: ${ffmpeg.path} (from ${ffmpeg.source})`);
        }
        const engine = getEngine(engineName);
        const session = await engine.open(settings);
        let lastProgress = 0;
        let result;
        try {
          result = await transcribeAudio(paths.file(ep.audio!.key), session, {
            windowSeconds: options.windowSeconds,
            ffmpeg,
            onProgress: ({ doneSeconds, elapsedMs, windowDone }) => {
              // Every window's end; within a window at most every 10 s (one log line each in CI).
              if (!windowDone && elapsedMs - lastProgress < 10000) return;
              lastProgress = elapsedMs;
              const total = ep.durationSeconds ? ` of ${clock(ep.durationSeconds)}` : '';
              const speed = elapsedMs > 0 ? (doneSeconds * 1000) / elapsedMs : 0;
              log.progress(`${label} ${clock(doneSeconds)}${total}, ${speed.toFixed(1)}× real time`);
            },
          });
        } finally {
          await session.close();
        }
        srt = toSrt(result.segments);
        const speed = result.elapsedMs > 0 ? (result.durationSeconds * 1000) / result.elapsedMs : 0;
        log.info(`${label}: ${engineName} ${settings.model}, ${clock(result.durationSeconds)} of audio at ${speed.toFixed(1)}× real time`);
        count('audioSeconds', Math.round(result.durationSeconds));
        record = {
          source: engine.name,
          engine: engine.name,
          model: settings.model,
          prompt: settings.prompt,
          audioSha256: ep.audio!.sha256,
          transcriptSha256: sha256(srt),
        };
      } catch (err) {
        const fix = fixOf(err);
        const message = `${(err as Error).message}${publisherFailure ? ` (the publisher transcript was not usable either: ${publisherFailure})` : ''}`;
        problem(message, fix ?? (/decode|audio file/.test((err as Error).message) ? 'download the episode again (delete the audio file and run the rss target)' : undefined));
        continue;
      }
    }

    // SRT first, then its record: a crash in between leaves an SRT without record, which counts as done.
    await writeFileAtomic(file, srt);
    sources[key] = record!;
    await saveSources(paths, sources);
    count(record!.source === 'publisher' ? 'publisher' : 'transcribed');
  }

  // The state: every transcript the manifest's episodes have now.
  const transcripts: TranscriptState[] = [];
  for (const ep of manifest.episodes) {
    const key = keys.transcript(ep.podcast, ep.fileKey);
    const data = await readIfExists(paths.transcriptFile(ep.podcast, ep.fileKey));
    if (data !== undefined) transcripts.push({ key, sha256: sha256(data), source: sources[key]?.source ?? 'unknown' });
  }
  transcripts.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { state: { transcripts }, counts, problems };
}
