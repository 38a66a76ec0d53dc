import { promises as fsp } from 'node:fs';
import {
  clock,
  compareKeys,
  mapLimit,
  fixOf,
  ifExists,
  keys,
  readManifest,
  resolveFeedUrl,
  sha256,
  stableStringify,
  writeFileAtomic,
  type EpisodeManifest,
  type EpisodeRecord,
  type Log,
  type SiteConfig,
  type SitePaths,
} from '@podline/config';
import { untrustedUrlPolicy } from '@podline/feeds';
import type { TaskProblem } from '@podline/report';
import { correctSrt, CorrectionsError, loadCorrections, vadDescription, vadSettingsOf, type Corrections, type VadSettings } from '@podline/speech';
import type { EngineSettings } from './engine';
import { getEngine } from './engines';
import { resolveTranscribeOptions, type TranscribeOptions } from './options';
import { estimateTranscription, formatEstimate } from './estimate';
import { publisherTranscriptSrt } from './publisher';
import { loadSources, rawTranscriptFile, saveSources, type TranscriptSource } from './records';
import { droppedText, EngineTools, transcribeEpisodeAudio } from './transcribe-episode';

/** An episode handed to a remote transcriber; `upgrade`: it has a transcript already (made with another model). */
export interface RemoteEpisode {
  episode: EpisodeRecord;
  upgrade: boolean;
  /** False: only collect it if its job exists (an upgrade asked for by an earlier --force run); never enqueue. */
  enqueue: boolean;
}

/** A transcript a remote transcriber brought back, checked against the episode's audio. */
export interface RemoteTranscript {
  episode: EpisodeRecord;
  srt: string;
  record: TranscriptSource;
}

/** What a site's run hands to a remote transcriber. */
export interface RemoteRequest {
  episodes: RemoteEpisode[];
  engine: string;
  settings: EngineSettings;
  /** The site's speech windows, which the remote run uses as a local one would (undefined: VAD off). */
  vad?: VadSettings;
  windowSeconds?: number;
  log: Log;
}

/**
 * Somewhere else that runs the engine (the shared job queue): given the episodes that need the engine,
 * it hands back the transcripts that are ready; the rest it reports as pending in its counts.
 */
export interface RemoteTranscriber {
  transcribe(input: RemoteRequest): Promise<{
    transcripts: RemoteTranscript[];
    counts: Record<string, number>;
    problems: TaskProblem[];
  }>;
  /** After the transcripts are saved: drop what the remote side keeps of those now recorded in `sources`. */
  release?(input: { sources: Record<string, TranscriptSource>; log: Log }): Promise<void>;
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


const readIfExists = (file: string) => ifExists(fsp.readFile(file));

/** Newest first (by publish time, then file key, which starts with the date). */
function newestFirst(a: EpisodeRecord, b: EpisodeRecord): number {
  const pa = a.published ? Date.parse(a.published) : -Infinity;
  const pb = b.published ? Date.parse(b.published) : -Infinity;
  if (pa !== pb) return pb - pa;
  return b.fileKey < a.fileKey ? -1 : b.fileKey > a.fileKey ? 1 : 0;
}

/** What one site's run works with, resolved once from the site config and the options. */
interface SiteRun {
  workspaceRoot: string;
  site: SiteConfig;
  paths: SitePaths;
  options: ReturnType<typeof resolveTranscribeOptions>;
  log: Log;
  remote?: RemoteTranscriber;
  engineName: string;
  settings: EngineSettings;
  /** Speech windows' settings; undefined: VAD off. */
  vad?: VadSettings;
  /** What the source record says about the VAD. */
  vadRecord: TranscriptSource['vad'];
  corrections: Corrections;
  sources: Record<string, TranscriptSource>;
  counts: Record<string, number>;
  count: (k: string, n?: number) => void;
  problems: TaskProblem[];
}

/**
 * The `transcribe` step for one site: every downloaded episode without a transcript gets an SRT,
 * from the publisher's transcript when the feed links one, else from the engine (Whisper).
 * Incremental: an existing SRT is done unless its audio changed (or `force`). One episode at a
 * time (or `transcription.parallel` at once), newest first; a failing episode is reported and the others go on.
 */
export async function transcribeSite(input: {
  workspaceRoot: string;
  site: SiteConfig;
  paths: SitePaths;
  options: TranscribeOptions;
  log: Log;
  /** Queue mode: the engine runs elsewhere (publisher transcripts still come first, here). */
  remote?: RemoteTranscriber;
}): Promise<TranscribeResult> {
  const { site, paths, log } = input;
  const options = resolveTranscribeOptions(site, input.options);
  const counts: Record<string, number> = {};
  const count = (k: string, n = 1) => (counts[k] = (counts[k] ?? 0) + n);
  const problems: TaskProblem[] = [];

  const manifest = await readManifest(paths.manifestFile, site.id);
  if (!manifest) {
    log.info('no episode manifest yet (run the rss target first): nothing to transcribe');
    return { state: options.dryRun ? undefined : { transcripts: [] }, counts, problems };
  }
  let corrections: Corrections;
  try {
    corrections = await loadCorrections(site.transcription.corrections);
  } catch (err) {
    if (err instanceof CorrectionsError) {
      problems.push({ site: site.id, file: site.transcription.corrections, message: err.message, fix: 'correct the file (or delete it for no corrections)' });
      count('failed');
      return { state: undefined, counts, problems };
    }
    throw err;
  }
  const vadOn = options.vad ?? site.transcription.vad?.enabled ?? true;
  const vad = vadOn ? vadSettingsOf({ ...site.transcription.vad, ...(options.windowSeconds ? { windowSeconds: options.windowSeconds } : {}) }) : undefined;
  const run: SiteRun = {
    ...input,
    options,
    engineName: options.engine,
    settings: {
      workspaceRoot: input.workspaceRoot,
      model: options.model,
      language: site.transcription.language,
      prompt: site.transcription.prompt,
      threads: options.threads,
      beamSize: options.beamSize,
      debug: (m) => log.debug(m),
    },
    vad,
    vadRecord: vad ? vadDescription(vad) : false,
    corrections,
    sources: await loadSources(paths),
    counts,
    count,
    problems,
  };

  // 1. Select the work.
  const work = await selectWork(run, manifest);
  if (options.dryRun) {
    await reportDryRun(run, manifest, work.selected);
    return { state: undefined, counts, problems };
  }

  // 2. Do each episode: the publisher's transcript, else the engine here; queue mode gathers the engine's share.
  // `transcription.parallel` episodes at once here (the machine's threads shared between them), each with its
  // own ffmpeg/VAD tools, as a queue worker's slots run; queue mode only hands work over, one at a time.
  const remote: Array<RemoteEpisode | undefined> = [];
  const lanes = input.remote ? 1 : Math.max(1, Math.min(site.transcription.parallel ?? 1, work.selected.length));
  if (lanes > 1) {
    run.settings = { ...run.settings, threads: Math.max(1, Math.floor(options.threads / lanes)) };
    log.info(`${work.selected.length} episodes: ${lanes} at once, ${run.settings.threads} thread(s) each (transcription.parallel)`);
  }
  const free = Array.from({ length: lanes }, () => new EngineTools());
  // One save at a time: a later snapshot of the records is never overwritten by an earlier one.
  let saving: Promise<void> = Promise.resolve();
  try {
    await mapLimit(work.selected, lanes, async (ep, i) => {
      const label = `${ep.podcast}/${ep.fileKey} [${i + 1}/${work.selected.length}]`;
      const tools = free.pop()!;
      let done;
      try {
        done = await transcribeOne(run, ep, label, tools);
      } finally {
        free.push(tools);
      }
      if (done === 'remote') remote[i] = { episode: ep, upgrade: work.hasTranscript.has(ep), enqueue: true };
      else if (done) {
        const save = async () => {
          await saveTranscript(run, ep, done.srt, done.record);
          await saveSources(paths, run.sources);
        };
        await (saving = saving.then(save, save));
        count(done.record.source === 'publisher' ? 'publisher' : 'transcribed');
      }
    });
  } finally {
    await Promise.all(free.map((t) => t.close()));
  }
  const remoteEpisodes = remote.filter((r): r is RemoteEpisode => r !== undefined);

  // 3. Corrections changed (or new): re-apply them to every other transcript from its raw text, without Whisper.
  await reapplyCorrections(run, manifest);

  // 4. Queue mode: hand over the engine's share and collect what workers finished. Upgrades enqueued by an
  // earlier --force run are collected by every later run (the old transcript stays until then).
  if (input.remote) {
    for (const ep of work.outdated) remoteEpisodes.push({ episode: ep, upgrade: true, enqueue: false });
    if (remoteEpisodes.length) await collectRemote(run, input.remote, remoteEpisodes);
    await input.remote.release?.({ sources: run.sources, log });
  }

  // 5. The state: every transcript the manifest's episodes have now.
  return { state: { transcripts: await stateOf(run, manifest) }, counts, problems };
}

/** 1. Episodes that need a transcript (newest first, at most `maxEpisodes`), and those made another way. */
async function selectWork(run: SiteRun, manifest: EpisodeManifest) {
  const { paths, options, sources, settings, engineName, log } = run;
  const sameVad = (rec: TranscriptSource) => stableStringify(rec.vad ?? false) === stableStringify(run.vadRecord);
  const candidates = manifest.episodes.filter((e) => e.status === 'downloaded' && e.audio?.sha256);
  const todo: EpisodeRecord[] = [];
  const hasTranscript = new Set<EpisodeRecord>();
  const outdated: EpisodeRecord[] = [];
  for (const ep of candidates) {
    const key = keys.transcript(ep.podcast, ep.fileKey);
    // Only whether it is there: the SRT itself is read (and hashed) once, for the state at the end.
    const exists = (await ifExists(fsp.stat(paths.transcriptFile(ep.podcast, ep.fileKey)))) !== undefined;
    const rec = sources[key];
    if (exists) hasTranscript.add(ep);
    if (!exists || options.force || (rec && rec.audioSha256 !== ep.audio!.sha256)) {
      todo.push(ep);
    } else if (
      rec &&
      rec.source !== 'publisher' &&
      rec.source !== 'unknown' &&
      (rec.engine !== engineName || rec.model !== settings.model || (rec.prompt ?? '') !== (settings.prompt ?? '') || !sameVad(rec))
    ) {
      // A different engine/model/prompt/VAD alone never re-transcribes hours of audio: only on request.
      run.count('outdated');
      outdated.push(ep);
      log.debug(`${key}: made with ${rec.engine} ${rec.model}${rec.vad ? ' (VAD)' : ''}; kept (use --force to redo with ${engineName} ${settings.model}${run.vad ? ' (VAD)' : ''})`);
    }
  }
  todo.sort(newestFirst);
  const selected = todo.slice(0, Math.min(options.maxEpisodes, todo.length));
  if (todo.length > selected.length) {
    run.count('pending', todo.length - selected.length);
    log.info(`${todo.length} episodes need transcripts; doing the newest ${selected.length} (maxEpisodes, or the site's transcription.maxEpisodesPerRun); the rest wait for the next runs`);
  }
  if (selected.length && !run.remote) {
    const estimate = estimateTranscription({
      episodes: selected,
      sources,
      engine: engineName,
      model: settings.model,
      usePublisher: run.site.transcription.usePublisherTranscripts,
      parallel: run.site.transcription.parallel,
    });
    log.info(formatEstimate(estimate, options.dryRun));
  }
  return { selected, hasTranscript, outdated };
}

const viaPublisher = (run: SiteRun, ep: EpisodeRecord) => Boolean(run.site.transcription.usePublisherTranscripts && ep.transcripts?.length);

/** Dry run: what would be transcribed and corrected, and whether the engine's model is missing. Nothing is fetched or written. */
async function reportDryRun(run: SiteRun, manifest: EpisodeManifest, selected: EpisodeRecord[]): Promise<void> {
  const { engineName, settings, remote, log } = run;
  for (const ep of selected) {
    const how = remote ? `by a queue job (${engineName} ${settings.model})` : `with ${engineName} ${settings.model}`;
    log.info(`would transcribe ${ep.podcast}/${ep.fileKey}${viaPublisher(run, ep) ? ` from the publisher transcript (else ${how})` : ` ${how}`}`);
  }
  if (selected.length) run.count('wouldTranscribe', selected.length);
  const recorrect = await needsCorrections(run, manifest, new Set(selected.map((ep) => keys.transcript(ep.podcast, ep.fileKey))));
  if (recorrect.length) {
    log.info(`would re-apply ${run.corrections.file ?? 'the corrections'} to ${recorrect.length} transcript(s)`);
    run.count('wouldCorrect', recorrect.length);
  }
  if (!remote && selected.some((ep) => !viaPublisher(run, ep))) {
    try {
      await getEngine(engineName).check(settings);
    } catch (err) {
      const fix = fixOf(err);
      log.warn(`${(err as Error).message}${fix ? ` — ${fix}` : ''}`);
    }
  }
}

/**
 * 2. One episode: the publisher's own transcript when the feed links one, else the engine — here, or
 * `'remote'` in queue mode. A failure is recorded as the episode's problem (undefined is returned).
 */
async function transcribeOne(run: SiteRun, ep: EpisodeRecord, label: string, tools: EngineTools): Promise<{ srt: string; record: TranscriptSource } | 'remote' | undefined> {
  const { site, engineName, settings, log } = run;
  let publisherFailure: string | undefined;
  if (viaPublisher(run, ep)) {
    try {
      const podcast = site.podcasts.find((p) => p.id === ep.podcast);
      const feedUrl = podcast ? resolveFeedUrl(site, podcast.feedUrl) : '';
      const got = await publisherTranscriptSrt(ep.transcripts!, feedUrl, { policy: untrustedUrlPolicy(site, feedUrl) });
      if (got) {
        log.info(`${label}: publisher transcript (${got.format})`);
        return { srt: got.srt, record: { source: 'publisher', url: got.url, format: got.format, audioSha256: ep.audio!.sha256, transcriptSha256: '' } };
      }
    } catch (err) {
      publisherFailure = (err as Error).message;
      log.warn(`${label}: ${publisherFailure}; falling back to ${engineName}`);
    }
  }
  if (run.remote) return 'remote';
  try {
    let lastProgress = 0;
    const got = await transcribeEpisodeAudio({
      audio: { file: run.paths.file(ep.audio!.key), sha256: ep.audio!.sha256 },
      engine: getEngine(engineName),
      settings,
      tools,
      vad: run.vad,
      windowSeconds: run.options.windowSeconds,
      cacheDir: run.paths.cacheDir(),
      onSpeech: (speech) => {
        const speechSamples = speech.regions.reduce((n, [a, b]) => n + b - a, 0);
        log.debug(
          `${label}: ${speech.regions.length} speech regions, ${clock(speechSamples / 16000)} of ${clock(speech.totalSamples / 16000)} is speech` +
            (speech.cached ? ' (cached)' : ` (VAD ${(speech.vadMs / 1000).toFixed(1)} s)`),
        );
      },
      onProgress: ({ doneSeconds, elapsedMs, windowDone }) => {
        // Every window's end; within a window at most every 10 s (one log line each in CI).
        if (!windowDone && elapsedMs - lastProgress < 10000) return;
        lastProgress = elapsedMs;
        const total = ep.durationSeconds ? ` of ${clock(ep.durationSeconds)}` : '';
        const speed = elapsedMs > 0 ? (doneSeconds * 1000) / elapsedMs : 0;
        log.progress(`${label} ${clock(doneSeconds)}${total}, ${speed.toFixed(1)}× real time`);
      },
    });
    const heard = got.speechSeconds !== undefined ? ` (${clock(got.speechSeconds)} of speech heard)` : '';
    const dropped = droppedText(got.guards);
    log.info(`${label}: ${engineName} ${settings.model}, ${clock(got.durationSeconds)} of audio${heard} at ${got.speed.toFixed(1)}× real time${dropped ? `; guards: ${dropped}` : ''}`);
    run.count('audioSeconds', Math.round(got.durationSeconds));
    if (got.speechSeconds !== undefined) run.count('speechSeconds', Math.round(got.speechSeconds));
    for (const [k, n] of Object.entries(got.guards ?? {})) if (n) run.count(`guard.${k}`, n);
    return { srt: got.srt, record: got.record };
  } catch (err) {
    const message = `${(err as Error).message}${publisherFailure ? ` (the publisher transcript was not usable either: ${publisherFailure})` : ''}`;
    const fix = fixOf(err) ?? (/decode|audio file/.test((err as Error).message) ? 'download the episode again (delete the audio file and run the rss target)' : undefined);
    run.count('failed');
    run.problems.push({ site: site.id, podcast: ep.podcast, episode: ep.fileKey, file: ep.audio?.key ?? keys.audio(ep.podcast, ep.fileKey), message, fix });
    return undefined;
  }
}

/**
 * The raw transcript, then the corrected SRT, then its record in memory (the caller saves the records):
 * a crash in between leaves an SRT without record, which counts as done (and gets the corrections next run).
 */
async function saveTranscript(run: SiteRun, ep: EpisodeRecord, srt: string, record: TranscriptSource): Promise<void> {
  const key = keys.transcript(ep.podcast, ep.fileKey);
  await writeFileAtomic(rawTranscriptFile(run.paths, key), srt);
  const corrected = correctSrt(srt, run.corrections);
  await writeFileAtomic(run.paths.transcriptFile(ep.podcast, ep.fileKey), corrected);
  run.sources[key] = { ...record, transcriptSha256: sha256(corrected), correctionsSha256: run.corrections.sha256 };
}

/** 3. Corrections changed (or new): every other transcript gets them again from its raw text. */
async function reapplyCorrections(run: SiteRun, manifest: EpisodeManifest): Promise<void> {
  const { paths, corrections, sources, log } = run;
  for (const item of await needsCorrections(run, manifest, new Set())) {
    const file = paths.transcriptFile(item.podcast, item.fileKey);
    const rawFile = rawTranscriptFile(paths, item.key);
    let raw = (await readIfExists(rawFile))?.toString('utf8');
    if (raw === undefined) {
      if (item.record?.correctionsSha256) {
        log.warn(`${item.key}: its raw transcript is gone, so the new corrections cannot be re-applied; redo it with --force`);
        continue;
      }
      // Never corrected: the SRT is the raw transcript.
      raw = (await fsp.readFile(file)).toString('utf8');
      await writeFileAtomic(rawFile, raw);
    }
    const corrected = correctSrt(raw, corrections);
    await writeFileAtomic(file, corrected);
    sources[item.key] = {
      ...(item.record ?? { source: 'unknown', audioSha256: item.audioSha256 }),
      transcriptSha256: sha256(corrected),
      correctionsSha256: corrections.sha256,
    };
    await saveSources(paths, sources);
    run.count('corrected');
  }
}

/** 4. Queue mode: enqueue what the engine must do and collect what workers finished (SRTs first, then the records once). */
async function collectRemote(run: SiteRun, remote: RemoteTranscriber, episodes: RemoteEpisode[]): Promise<void> {
  const got = await remote.transcribe({ episodes, engine: run.engineName, settings: run.settings, vad: run.vad, windowSeconds: run.options.windowSeconds, log: run.log });
  // Many at once (each file is written and synced on its own); the records once, after all of them.
  await mapLimit(got.transcripts, 16, (t) => saveTranscript(run, t.episode, t.srt, t.record));
  if (got.transcripts.length) await saveSources(run.paths, run.sources);
  for (const [k, v] of Object.entries(got.counts)) run.count(k, v);
  run.problems.push(...got.problems);
}

/** 5. The deterministic state: every transcript the manifest's episodes have, sorted by key. */
async function stateOf(run: SiteRun, manifest: EpisodeManifest): Promise<TranscriptState[]> {
  const transcripts: TranscriptState[] = [];
  // Thousands of small files: read many at once (the result is sorted anyway).
  await mapLimit(manifest.episodes, 16, async (ep) => {
    const key = keys.transcript(ep.podcast, ep.fileKey);
    const data = await readIfExists(run.paths.transcriptFile(ep.podcast, ep.fileKey));
    if (data !== undefined) transcripts.push({ key, sha256: sha256(data), source: run.sources[key]?.source ?? 'unknown' });
  });
  return transcripts.sort((a, b) => compareKeys(a.key, b.key));
}

/** Existing transcripts (outside `skip`) whose applied corrections differ from the site's. */
async function needsCorrections(
  run: SiteRun,
  manifest: EpisodeManifest,
  skip: Set<string>,
): Promise<Array<{ key: string; podcast: string; fileKey: string; audioSha256: string; record?: TranscriptSource }>> {
  const out = [];
  for (const ep of manifest.episodes) {
    const key = keys.transcript(ep.podcast, ep.fileKey);
    if (skip.has(key) || !ep.audio?.sha256) continue;
    const record = run.sources[key];
    if ((record?.correctionsSha256 ?? '') === run.corrections.sha256) continue;
    if ((await ifExists(fsp.stat(run.paths.transcriptFile(ep.podcast, ep.fileKey)))) === undefined) continue;
    out.push({ key, podcast: ep.podcast, fileKey: ep.fileKey, audioSha256: ep.audio.sha256, record });
  }
  return out;
}
