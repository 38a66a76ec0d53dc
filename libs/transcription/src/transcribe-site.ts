import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import {
  byKey,
  compareKeys,
  fixOf,
  ifExists,
  keys,
  readManifest,
  resolveFeedUrl,
  writeFileAtomic,
  type EpisodeManifest,
  type EpisodeRecord,
  type Log,
  type SiteConfig,
  type SitePaths,
} from '@podline/config';
import { findFfmpeg, type FfmpegBinary } from '@podline/media';
import type { TaskProblem, TaskResult } from '@podline/report';
import type { EngineSettings } from './engine';
import { getEngine } from './engines';
import { resolveTranscribeOptions, type ResolvedTranscribeOptions, type TranscribeOptions } from './options';
import { publisherTranscriptSrt } from './publisher';
import { loadSources, saveSources, type TranscriptSource } from './records';
import { toSrt } from './srt';
import { transcribeAudio } from './transcribe-audio';

/** What the transcribe step logs to: config's one `Log`. */
export type RunLog = Log;

/** One entry of the target's deterministic state: what transcript exists, and where it came from. */
export interface TranscriptState {
  key: string;
  sha256: string;
  source: string;
}

/** The transcribe step's result (report's one result type): the transcripts sorted by key; no state in dry run. */
export type TranscribeResult = TaskResult<{ transcripts: TranscriptState[] }>;

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
  return compareKeys(b.fileKey, a.fileKey);
}

/** What one site's run works with: its settings, the transcripts' records, and what it did so far. */
interface SiteRun {
  site: SiteConfig;
  paths: SitePaths;
  log: RunLog;
  options: ResolvedTranscribeOptions;
  engineName: string;
  settings: EngineSettings;
  sources: Record<string, TranscriptSource>;
  feedUrls: Map<string, string>;
  counts: Record<string, number>;
  problems: TaskProblem[];
  /** Found on first use: a run of publisher transcripts needs none. */
  ffmpeg?: FfmpegBinary;
}

const count = (run: SiteRun, k: string, n = 1) => (run.counts[k] = (run.counts[k] ?? 0) + n);

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
  const problems: TaskProblem[] = [];

  const manifest = await readManifest(paths.manifestFile, site.id);
  if (!manifest) {
    log.info('no episode manifest yet (run the rss target first): nothing to transcribe');
    return { state: options.dryRun ? undefined : { transcripts: [] }, counts, problems };
  }
  const run: SiteRun = {
    site,
    paths,
    log,
    options,
    engineName: options.engine,
    settings: {
      workspaceRoot,
      model: options.model,
      language: site.transcription.language,
      prompt: site.transcription.prompt,
      threads: options.threads,
      beamSize: options.beamSize,
      debug: (m) => log.debug(m),
    },
    sources: await loadSources(paths),
    feedUrls: new Map(site.podcasts.map((p) => [p.id, resolveFeedUrl(site, p.feedUrl)])),
    counts,
    problems,
  };

  const selected = await selectWork(run, manifest);
  if (options.dryRun) {
    await describeWork(run, selected);
    return { state: undefined, counts, problems };
  }
  for (const [i, ep] of selected.entries()) await transcribeOne(run, ep, `${ep.podcast}/${ep.fileKey} [${i + 1}/${selected.length}]`);
  return { state: await stateOf(paths, manifest, run.sources), counts, problems };
}

/** Select work: the downloaded episodes that need a transcript, newest first, at most `maxEpisodes`. */
async function selectWork(run: SiteRun, manifest: EpisodeManifest): Promise<EpisodeRecord[]> {
  const { paths, options, sources, engineName, settings, log } = run;
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
      count(run, 'outdated');
      log.debug(`${key}: made with ${rec.engine} ${rec.model}; kept (use --force to redo with ${engineName} ${settings.model})`);
    }
  }
  todo.sort(newestFirst);
  const selected = todo.slice(0, Math.min(options.maxEpisodes, todo.length));
  if (todo.length > selected.length) log.info(`${todo.length} episodes need transcripts; doing the newest ${selected.length} (maxEpisodes)`);
  return selected;
}

const viaPublisher = (run: SiteRun, ep: EpisodeRecord) => !!(run.site.transcription.usePublisherTranscripts && ep.transcripts?.length);

/** Dry run: say what would be done, and whether what the engine needs (its model…) is missing; nothing is fetched or loaded. */
async function describeWork(run: SiteRun, selected: EpisodeRecord[]): Promise<void> {
  const { engineName, settings, log } = run;
  for (const ep of selected) {
    log.info(`would transcribe ${ep.podcast}/${ep.fileKey}${viaPublisher(run, ep) ? ' from the publisher transcript (else ' + engineName + ')' : ` with ${engineName} ${settings.model}`}`);
  }
  if (selected.length) count(run, 'wouldTranscribe', selected.length);
  if (selected.some((ep) => !viaPublisher(run, ep))) {
    try {
      await getEngine(engineName).check(settings);
    } catch (err) {
      const fix = fixOf(err);
      log.warn(`${(err as Error).message}${fix ? ` — ${fix}` : ''}`);
    }
  }
}

/** Do one: the episode's SRT (publisher's, else the engine's), then its record; a failure is the episode's problem. */
async function transcribeOne(run: SiteRun, ep: EpisodeRecord, label: string): Promise<void> {
  const { site, paths, sources } = run;
  const key = keys.transcript(ep.podcast, ep.fileKey);
  let made: { srt: string; record: TranscriptSource } | undefined;

  // 1. The publisher's own transcript, when the feed links one.
  if (viaPublisher(run, ep)) made = await publisherTranscript(run, ep, label);

  // 2. Else the engine.
  if (!made) {
    try {
      made = await engineTranscript(run, ep, label);
    } catch (err) {
      const fix = fixOf(err);
      const message = (err as Error).message;
      count(run, 'failed');
      run.problems.push({
        site: site.id,
        podcast: ep.podcast,
        episode: ep.fileKey,
        file: ep.audio?.key ?? keys.audio(ep.podcast, ep.fileKey),
        message,
        fix: fix ?? (/decode|audio file/.test(message) ? 'download the episode again (delete the audio file and run the rss target)' : undefined),
      });
      return;
    }
  }

  // SRT first, then its record: a crash in between leaves an SRT without record, which counts as done.
  await writeFileAtomic(paths.transcriptFile(ep.podcast, ep.fileKey), made.srt);
  sources[key] = made.record;
  await saveSources(paths, sources);
  count(run, made.record.source === 'publisher' ? 'publisher' : 'transcribed');
}

/** The publisher's transcript as SRT; undefined (with a warning) when it cannot be had. */
async function publisherTranscript(run: SiteRun, ep: EpisodeRecord, label: string): Promise<{ srt: string; record: TranscriptSource } | undefined> {
  try {
    const got = await publisherTranscriptSrt(ep.transcripts!, run.feedUrls.get(ep.podcast) ?? '');
    if (!got) return undefined;
    run.log.info(`${label}: publisher transcript (${got.format})`);
    return { srt: got.srt, record: { source: 'publisher', url: got.url, format: got.format, audioSha256: ep.audio!.sha256, transcriptSha256: sha256(got.srt) } };
  } catch (err) {
    run.log.warn(`${label}: ${(err as Error).message}; falling back to ${run.engineName}`);
    return undefined;
  }
}

/** The engine's transcript as SRT, with progress on long audio. Throws what the engine or decoding throws. */
async function engineTranscript(run: SiteRun, ep: EpisodeRecord, label: string): Promise<{ srt: string; record: TranscriptSource }> {
  const { paths, options, settings, engineName, log } = run;
  if (!run.ffmpeg) {
    run.ffmpeg = findFfmpeg();
    log.debug(`ffmpeg: ${run.ffmpeg.path} (from ${run.ffmpeg.source})`);
  }
  const engine = getEngine(engineName);
  const session = await engine.open(settings);
  let lastProgress = 0;
  let result;
  try {
    result = await transcribeAudio(paths.file(ep.audio!.key), session, {
      windowSeconds: options.windowSeconds,
      ffmpeg: run.ffmpeg,
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
  const srt = toSrt(result.segments);
  const speed = result.elapsedMs > 0 ? (result.durationSeconds * 1000) / result.elapsedMs : 0;
  log.info(`${label}: ${engineName} ${settings.model}, ${clock(result.durationSeconds)} of audio at ${speed.toFixed(1)}× real time`);
  count(run, 'audioSeconds', Math.round(result.durationSeconds));
  return {
    srt,
    record: { source: engine.name, engine: engine.name, model: settings.model, prompt: settings.prompt, audioSha256: ep.audio!.sha256, transcriptSha256: sha256(srt) },
  };
}

/** State of the site's transcripts: every one the manifest's episodes have now, sorted by key. */
async function stateOf(paths: SitePaths, manifest: EpisodeManifest, sources: Record<string, TranscriptSource>): Promise<{ transcripts: TranscriptState[] }> {
  const transcripts: TranscriptState[] = [];
  for (const ep of manifest.episodes) {
    const key = keys.transcript(ep.podcast, ep.fileKey);
    const data = await readIfExists(paths.transcriptFile(ep.podcast, ep.fileKey));
    if (data !== undefined) transcripts.push({ key, sha256: sha256(data), source: sources[key]?.source ?? 'unknown' });
  }
  transcripts.sort(byKey);
  return { transcripts };
}
