import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import {
  fixOf,
  ifExists,
  keys,
  readManifest,
  resolveFeedUrl,
  stableStringify,
  writeFileAtomic,
  type EpisodeManifest,
  type EpisodeRecord,
  type SiteConfig,
  type SitePaths,
} from '@podline/config';
import { untrustedUrlPolicy } from '@podline/feeds';
import { findFfmpeg, type FfmpegBinary } from '@podline/media';
import type { TaskProblem } from '@podline/report';
import {
  correctSrt,
  CorrectionsError,
  loadCorrections,
  SileroVad,
  speechRegions,
  vadDescription,
  vadSettingsOf,
  type Corrections,
  type GuardCounts,
} from '@podline/speech';
import type { EngineSettings } from './engine';
import { getEngine } from './engines';
import { resolveTranscribeOptions, type TranscribeOptions } from './options';
import { estimateTranscription, formatEstimate } from './estimate';
import { publisherTranscriptSrt } from './publisher';
import { loadSources, rawTranscriptFile, saveSources, type TranscriptSource } from './records';
import { toSrt } from './srt';
import { transcribeAudio } from './transcribe-audio';


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

/**
 * Somewhere else that runs the engine (the shared job queue): given the episodes that need the engine,
 * it hands back the transcripts that are ready; the rest it reports as pending in its counts.
 */
export interface RemoteTranscriber {
  transcribe(input: { episodes: RemoteEpisode[]; engine: string; settings: EngineSettings; log: RunLog }): Promise<{
    transcripts: RemoteTranscript[];
    counts: Record<string, number>;
    problems: TaskProblem[];
  }>;
}

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
  /** Queue mode: the engine runs elsewhere (publisher transcripts still come first, here). */
  remote?: RemoteTranscriber;
}): Promise<TranscribeResult> {
  const { workspaceRoot, site, paths, log, remote } = input;
  const options = resolveTranscribeOptions(site, input.options);
  const counts: Record<string, number> = {};
  const count = (k: string, n = 1) => (counts[k] = (counts[k] ?? 0) + n);
  const problems: TaskProblem[] = [];

  const manifest = await readManifest(paths.manifestFile, site.id);
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
  const vadOn = options.vad ?? site.transcription.vad?.enabled ?? true;
  const vadSettings = vadSettingsOf({ ...site.transcription.vad, ...(options.windowSeconds ? { windowSeconds: options.windowSeconds } : {}) });
  // What the source record says about the VAD: changing it alone re-transcribes only with --force.
  const vadRecord: TranscriptSource['vad'] = vadOn ? vadDescription(vadSettings) : false;
  const sameVad = (rec: TranscriptSource) => stableStringify(rec.vad ?? false) === stableStringify(vadRecord);
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
  const feedUrls = new Map(site.podcasts.map((p) => [p.id, resolveFeedUrl(site, p.feedUrl)]));

  // What needs doing.
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
      // Queue workers (jobKey) do not run speech windows yet: their transcripts are judged without VAD.
      (rec.engine !== engineName || rec.model !== settings.model || (rec.prompt ?? '') !== (settings.prompt ?? '') || (!rec.jobKey && !sameVad(rec)))
    ) {
      // A different engine/model/prompt/VAD alone never re-transcribes hours of audio: only on request.
      count('outdated');
      outdated.push(ep);
      log.debug(`${key}: made with ${rec.engine} ${rec.model}${rec.vad ? ' (VAD)' : ''}; kept (use --force to redo with ${engineName} ${settings.model}${vadOn ? ' (VAD)' : ''})`);
    }
  }
  todo.sort(newestFirst);
  const selected = todo.slice(0, Math.min(options.maxEpisodes, todo.length));
  if (todo.length > selected.length) {
    count('pending', todo.length - selected.length);
    log.info(`${todo.length} episodes need transcripts; doing the newest ${selected.length} (maxEpisodes, or the site's transcription.maxEpisodesPerRun); the rest wait for the next runs`);
  }
  if (selected.length && !remote) {
    const estimate = estimateTranscription({ episodes: selected, sources, engine: engineName, model: settings.model, usePublisher: site.transcription.usePublisherTranscripts });
    log.info(formatEstimate(estimate, options.dryRun));
  }

  const usePublisher = site.transcription.usePublisherTranscripts;
  if (options.dryRun) {
    for (const ep of selected) {
      const viaPublisher = usePublisher && ep.transcripts?.length;
      const how = remote ? `by a queue job (${engineName} ${settings.model})` : `with ${engineName} ${settings.model}`;
      log.info(`would transcribe ${ep.podcast}/${ep.fileKey}${viaPublisher ? ` from the publisher transcript (else ${how})` : ` ${how}`}`);
    }
    if (selected.length) count('wouldTranscribe', selected.length);
    const recorrect = await needsCorrections(paths, manifest, sources, corrections, new Set(selected.map((ep) => keys.transcript(ep.podcast, ep.fileKey))));
    if (recorrect.length) {
      log.info(`would re-apply ${corrections.file ?? 'the corrections'} to ${recorrect.length} transcript(s)`);
      count('wouldCorrect', recorrect.length);
    }
    // Say now if what the engine needs (its model…) is missing; nothing is fetched or loaded.
    if (!remote && selected.some((ep) => !(usePublisher && ep.transcripts?.length))) {
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
  const remoteEpisodes: RemoteEpisode[] = [];
  let vad: SileroVad | undefined;
  try {
  for (const [i, ep] of selected.entries()) {
    const key = keys.transcript(ep.podcast, ep.fileKey);
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
          record = { source: 'publisher', url: got.url, format: got.format, audioSha256: ep.audio!.sha256, transcriptSha256: '' };
          log.info(`${label}: publisher transcript (${got.format})`);
        }
      } catch (err) {
        publisherFailure = (err as Error).message;
        log.warn(`${label}: ${publisherFailure}; falling back to ${engineName}`);
      }
    }

    // 2. Else the engine: elsewhere (queue mode) or here.
    if (!srt && remote) {
      remoteEpisodes.push({ episode: ep, upgrade: hasTranscript.has(ep), enqueue: true });
      continue;
    }
    if (!srt) {
      try {
        if (!ffmpeg) {
          ffmpeg = findFfmpeg();
          log.debug(`ffmpeg: ${ffmpeg.path} (from ${ffmpeg.source})`);
        }
        const engine = getEngine(engineName);
        const audioFile = paths.file(ep.audio!.key);
        // Speech regions first (before Whisper's threads start), cached per audio hash.
        let speech: Awaited<ReturnType<typeof speechRegions>> | undefined;
        if (vadOn) {
          await engine.check(settings); // a missing model fails before the VAD runs
          if (!vad) vad = await SileroVad.load();
          speech = await speechRegions(audioFile, ep.audio!.sha256, paths.cacheDir(), vadSettings, { ffmpeg, vad });
          const speechSamples = speech.regions.reduce((n, [a, b]) => n + b - a, 0);
          log.debug(
            `${label}: ${speech.regions.length} speech regions, ${clock(speechSamples / 16000)} of ${clock(speech.totalSamples / 16000)} is speech` +
              (speech.cached ? ' (cached)' : ` (VAD ${(speech.vadMs / 1000).toFixed(1)} s)`),
          );
        }
        const session = await engine.open(settings);
        let lastProgress = 0;
        let result;
        try {
          result = await transcribeAudio(paths.file(ep.audio!.key), session, {
            windowSeconds: vadOn ? vadSettings.windowSeconds : options.windowSeconds,
            speech,
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
        const elapsedMs = result.elapsedMs + (speech?.vadMs ?? 0);
        const speed = elapsedMs > 0 ? (result.durationSeconds * 1000) / elapsedMs : 0;
        const heard = result.speechSeconds !== undefined ? ` (${clock(result.speechSeconds)} of speech heard)` : '';
        const dropped = droppedText(result.guards);
        log.info(`${label}: ${engineName} ${settings.model}, ${clock(result.durationSeconds)} of audio${heard} at ${speed.toFixed(1)}× real time${dropped ? `; guards: ${dropped}` : ''}`);
        count('audioSeconds', Math.round(result.durationSeconds));
        if (result.speechSeconds !== undefined) count('speechSeconds', Math.round(result.speechSeconds));
        for (const [k, n] of Object.entries(result.guards ?? {})) if (n) count(`guard.${k}`, n);
        record = {
          source: engine.name,
          engine: engine.name,
          model: settings.model,
          prompt: settings.prompt,
          vad: vadRecord,
          ...(result.guards ? { guards: { ...result.guards } } : {}),
          audioSha256: ep.audio!.sha256,
          transcriptSha256: '',
          // What this machine achieved: the next runs' time estimates use it.
          durationSeconds: Math.round(result.durationSeconds),
          speed: +speed.toFixed(3),
        };
      } catch (err) {
        const fix = fixOf(err);
        const message = `${(err as Error).message}${publisherFailure ? ` (the publisher transcript was not usable either: ${publisherFailure})` : ''}`;
        problem(message, fix ?? (/decode|audio file/.test((err as Error).message) ? 'download the episode again (delete the audio file and run the rss target)' : undefined));
        continue;
      }
    }

    // The raw transcript, then the corrected SRT, then its record: a crash in between leaves an SRT
    // without record, which counts as done (and gets the corrections on the next run).
    await writeFileAtomic(rawTranscriptFile(paths, key), srt);
    const corrected = correctSrt(srt, corrections);
    await writeFileAtomic(paths.transcriptFile(ep.podcast, ep.fileKey), corrected);
    sources[key] = { ...record!, transcriptSha256: sha256(corrected), correctionsSha256: corrections.sha256 };
    await saveSources(paths, sources);
    count(record!.source === 'publisher' ? 'publisher' : 'transcribed');
  }
  } finally {
    await vad?.close();
  }

  // Corrections changed (or new): re-apply them to every other transcript from its raw text, without Whisper.
  for (const item of await needsCorrections(paths, manifest, sources, corrections, new Set())) {
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
    count('corrected');
  }

  // Upgrades enqueued by an earlier --force run are collected by every later run (the old transcript stays until then).
  if (remote) for (const ep of outdated) remoteEpisodes.push({ episode: ep, upgrade: true, enqueue: false });
  if (remote && remoteEpisodes.length) {
    const got = await remote.transcribe({ episodes: remoteEpisodes, engine: engineName, settings, log });
    // Raw and corrected SRTs, then the records once (a crash in between leaves SRTs without records: they count as done).
    for (const t of got.transcripts) {
      const key = keys.transcript(t.episode.podcast, t.episode.fileKey);
      await writeFileAtomic(rawTranscriptFile(paths, key), t.srt);
      const corrected = correctSrt(t.srt, corrections);
      await writeFileAtomic(paths.transcriptFile(t.episode.podcast, t.episode.fileKey), corrected);
      sources[key] = { ...t.record, transcriptSha256: sha256(corrected), correctionsSha256: corrections.sha256 };
    }
    if (got.transcripts.length) await saveSources(paths, sources);
    for (const [k, v] of Object.entries(got.counts)) count(k, v);
    problems.push(...got.problems);
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

function droppedText(guards: GuardCounts | undefined): string {
  if (!guards) return '';
  const names: Record<keyof GuardCounts, string> = { repeated: 'repeated', loop: 'loops', noSpeech: 'text without speech', nonSpeech: 'non-speech tags', clamped: 'cut to their region' };
  return (Object.keys(names) as Array<keyof GuardCounts>)
    .filter((k) => guards[k])
    .map((k) => `${guards[k]} ${names[k]}`)
    .join(', ');
}

/** Existing transcripts (outside `skip`) whose applied corrections differ from `corrections`. */
async function needsCorrections(
  paths: SitePaths,
  manifest: EpisodeManifest,
  sources: Record<string, TranscriptSource>,
  corrections: Corrections,
  skip: Set<string>,
): Promise<Array<{ key: string; podcast: string; fileKey: string; audioSha256: string; record?: TranscriptSource }>> {
  const out = [];
  for (const ep of manifest.episodes) {
    const key = keys.transcript(ep.podcast, ep.fileKey);
    if (skip.has(key) || !ep.audio?.sha256) continue;
    const record = sources[key];
    if ((record?.correctionsSha256 ?? '') === corrections.sha256) continue;
    if ((await ifExists(fsp.stat(paths.transcriptFile(ep.podcast, ep.fileKey)))) === undefined) continue;
    out.push({ key, podcast: ep.podcast, fileKey: ep.fileKey, audioSha256: ep.audio.sha256, record });
  }
  return out;
}
