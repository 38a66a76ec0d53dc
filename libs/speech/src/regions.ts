import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { stableStringify, writeJsonAtomic } from '@podline/config';
import { decodePcmWindows, SAMPLE_RATE, type FfmpegBinary } from '@podline/media';
import { CARRY_SAMPLES, FRAME_SAMPLES, HalfBandDecimator, SileroVad, VAD_MODEL_VERSION } from './vad';

/** How speech regions are found and shaped. Every field is part of the region cache's key. */
export interface VadSettings {
  /** Speech probability that starts a region (Silero's default 0.5); it ends below threshold − 0.15. */
  threshold: number;
  /** Shorter bursts of speech are ignored. */
  minSpeechMs: number;
  /** Non-speech at least this long ends a region; shorter pauses stay inside it (and Whisper hears them). */
  minSilenceMs: number;
  /** Audio kept before and after each region. */
  padMs: number;
  /** Longest region = the engine window (seconds of speech per engine call). Longer speech is split at its quietest frame. */
  windowSeconds: number;
}

/**
 * minSilenceMs 500 / padMs 200: regions of a sentence or a few, so windows fill (24.8 s on average on the
 * benchmark's 10-minute podcast clip, 20 windows, against 20.5 s and 25 windows with 1000 / 300, where
 * paragraph-long regions rarely shared a window; whisper.cpp encodes a padded 30 s chunk whatever its fill).
 */
export const DEFAULT_VAD_SETTINGS: VadSettings = { threshold: 0.5, minSpeechMs: 250, minSilenceMs: 500, padMs: 200, windowSeconds: 30 };

/** Speech in an episode: half-open sample ranges [start, end), sorted, disjoint (they may touch where long speech was split). */
export interface SpeechRegions {
  totalSamples: number;
  regions: Array<[number, number]>;
}

/** Bumped when region finding changes in a way the settings do not show. */
const REGIONS_VERSION = 2;

export function vadSettingsOf(partial: Partial<VadSettings> = {}): VadSettings {
  const s = { ...DEFAULT_VAD_SETTINGS };
  for (const k of Object.keys(s) as Array<keyof VadSettings>) if (typeof partial[k] === 'number' && Number.isFinite(partial[k])) s[k] = partial[k]!;
  return s;
}

/** What a transcript's record says about the VAD that shaped it. */
export function vadDescription(settings: VadSettings): { model: string; settings: VadSettings } {
  return { model: VAD_MODEL_VERSION, settings };
}

/**
 * Speech regions from per-frame probabilities (Silero's get_speech_timestamps, then padding,
 * merging and splitting): a region starts at a frame ≥ threshold, ends after `minSilenceMs` below
 * threshold − 0.15, is dropped if shorter than `minSpeechMs`, gets `padMs` on both sides; regions
 * that then overlap are merged, and regions longer than the window are split at the frame of
 * lowest speech probability in the second half of each window-long stretch.
 */
export function regionsFromProbabilities(probs: Float32Array, totalSamples: number, settings: VadSettings): SpeechRegions {
  const msFrames = (ms: number) => Math.max(1, Math.round((ms * SAMPLE_RATE) / 1000 / FRAME_SAMPLES));
  const neg = Math.max(settings.threshold - 0.15, 0.01);
  const minSilence = msFrames(settings.minSilenceMs);
  const minSpeech = msFrames(settings.minSpeechMs);
  const raw: Array<[number, number]> = [];
  let triggered = false;
  let start = 0;
  let tempEnd = -1;
  for (let i = 0; i < probs.length; i++) {
    const p = probs[i];
    if (p >= settings.threshold && tempEnd >= 0) tempEnd = -1;
    if (p >= settings.threshold && !triggered) {
      triggered = true;
      start = i;
      continue;
    }
    if (triggered && p < neg) {
      if (tempEnd < 0) tempEnd = i;
      if (i + 1 - tempEnd >= minSilence) {
        raw.push([start, tempEnd]);
        triggered = false;
        tempEnd = -1;
      }
    }
  }
  if (triggered) raw.push([start, tempEnd >= 0 ? tempEnd : probs.length]);
  const pad = Math.round((settings.padMs * SAMPLE_RATE) / 1000);
  const merged: Array<[number, number]> = [];
  for (const [a, b] of raw) {
    if (b - a < minSpeech) continue;
    const s = Math.max(0, a * FRAME_SAMPLES - pad);
    const e = Math.min(totalSamples, b * FRAME_SAMPLES + pad);
    if (e <= s) continue;
    const last = merged[merged.length - 1];
    if (last && s <= last[1]) last[1] = Math.max(last[1], e);
    else merged.push([s, e]);
  }
  const maxSamples = Math.round(settings.windowSeconds * SAMPLE_RATE);
  const regions: Array<[number, number]> = [];
  for (const [s0, e] of merged) {
    let s = s0;
    while (e - s > maxSamples) {
      // The quietest frame boundary in (s + max/2, s + max]: the cut lies between frames.
      const lo = Math.ceil((s + maxSamples / 2) / FRAME_SAMPLES);
      const hi = Math.floor((s + maxSamples) / FRAME_SAMPLES);
      let cut = hi;
      for (let f = hi - 1; f >= lo; f--) if (f < probs.length && probs[f] < (probs[cut] ?? 1)) cut = f;
      const at = Math.min(cut * FRAME_SAMPLES, s + maxSamples);
      regions.push([s, at]);
      s = at;
    }
    regions.push([s, e]);
  }
  return { totalSamples, regions };
}

export interface DetectOptions {
  ffmpeg?: FfmpegBinary;
  /** A loaded VAD to reuse (else one is loaded and closed). */
  vad?: SileroVad;
  /**
   * Also write the decoded 16 kHz stream to this new file (raw float32, `pcmFileWindows` reads it back), so
   * Whisper's windows need no second decode; given up (the file removed) past `maxBytes`.
   */
  keepPcm?: { file: string; maxBytes: number };
}

/** Seconds of audio decoded and run through the VAD at a time: bounds memory (4 MB) whatever the episode's length. */
const CHUNK_SECONDS = 60;

/**
 * Run the VAD over the whole decoded 16 kHz stream of `file`, chunk by chunk (memory: one chunk of
 * audio, the next one being decoded, plus 4 bytes per 32 ms of probabilities), and return its speech
 * regions; `pcmKept` says whether the whole stream is in `keepPcm.file`.
 */
export async function detectSpeech(file: string, settings: VadSettings, options: DetectOptions = {}): Promise<SpeechRegions & { probabilities: Float32Array; pcmKept: boolean }> {
  const vad = options.vad ?? (await SileroVad.load());
  const parts: Float32Array[] = [];
  let total = 0;
  let previous: Float32Array = new Float32Array(0);
  const half = new HalfBandDecimator();
  // The kept decode only saves Whisper a second decode: when it cannot be written it is given up, not the VAD.
  let keep = options.keepPcm ? await fsp.open(options.keepPcm.file, 'wx').catch(() => undefined) : undefined;
  const created = keep !== undefined;
  let kept = 0;
  const dropKept = async () => {
    const fh = keep;
    keep = undefined;
    await fh?.close().catch(() => undefined);
    // Only a file this call created (a name that was taken is somebody else's).
    if (created) await fsp.rm(options.keepPcm!.file, { force: true }).catch(() => undefined);
  };
  try {
    for await (const w of decodePcmWindows(file, { windowSamples: CHUNK_SECONDS * SAMPLE_RATE, ffmpeg: options.ffmpeg, readAhead: 1 })) {
      // The write runs on the thread pool while the VAD works on the same (unchanging) window; a failed or
      // short write (a full disk) gives the kept decode up.
      let written: Promise<boolean> | undefined;
      if (keep && kept + w.samples.byteLength > options.keepPcm!.maxBytes) await dropKept();
      else if (keep) {
        const bytes = new Uint8Array(w.samples.buffer, w.samples.byteOffset, w.samples.byteLength);
        written = keep.write(bytes).then(
          (r) => r.bytesWritten === bytes.length,
          () => false,
        );
        kept += bytes.length;
      }
      const samples = half.push(w.samples);
      parts.push(await vad.probabilities(samples, previous));
      previous = samples.slice(Math.max(0, samples.length - CARRY_SAMPLES));
      total = w.start + w.samples.length;
      if (written && !(await written)) await dropKept();
    }
    if (keep) {
      const fh = keep;
      if (!(await fh.close().then(() => true, () => false))) await dropKept();
    }
  } catch (err) {
    await dropKept();
    throw err;
  } finally {
    if (!options.vad) await vad.close();
  }
  const probabilities = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    probabilities.set(p, o);
    o += p.length;
  }
  return { ...regionsFromProbabilities(probabilities, total, settings), probabilities, pcmKept: keep !== undefined };
}

interface CacheFile {
  version: number;
  model: string;
  settings: VadSettings;
  audioSha256: string;
  totalSamples: number;
  regions: Array<[number, number]>;
}

/** The folder of the region caches (and of a speech pass's kept decode while its episode is transcribed). */
export function speechRegionsDir(cacheDir: string): string {
  return path.join(cacheDir, 'speech-regions');
}

export function regionsCacheFile(cacheDir: string, audioSha256: string): string {
  return path.join(speechRegionsDir(cacheDir), `${audioSha256}.json`);
}

/**
 * Speech regions of an episode, cached per audio hash (`<cacheDir>/speech-regions/<sha256>.json`)
 * with the model and settings that made them: a re-transcription of the same audio with the same
 * settings does not run the VAD again; other settings or another model recompute it. With `keepPcm`,
 * `pcmFile` is set when the VAD ran and its decode was kept whole in that file (the caller removes it).
 */
export async function speechRegions(
  file: string,
  audioSha256: string,
  cacheDir: string,
  settings: VadSettings,
  options: DetectOptions = {},
): Promise<SpeechRegions & { cached: boolean; vadMs: number; pcmFile?: string }> {
  const t0 = Date.now();
  const cacheFile = regionsCacheFile(cacheDir, audioSha256);
  try {
    const doc = JSON.parse(await fsp.readFile(cacheFile, 'utf8')) as CacheFile;
    if (
      doc.version === REGIONS_VERSION &&
      doc.model === VAD_MODEL_VERSION &&
      doc.audioSha256 === audioSha256 &&
      stableStringify(doc.settings) === stableStringify(settings) &&
      Array.isArray(doc.regions)
    ) {
      return { totalSamples: doc.totalSamples, regions: doc.regions, cached: true, vadMs: Date.now() - t0 };
    }
  } catch {
    /* missing or unreadable: compute */
  }
  const found = await detectSpeech(file, settings, options);
  const doc: CacheFile = { version: REGIONS_VERSION, model: VAD_MODEL_VERSION, settings, audioSha256, totalSamples: found.totalSamples, regions: found.regions };
  await writeJsonAtomic(cacheFile, doc);
  return {
    totalSamples: found.totalSamples,
    regions: found.regions,
    cached: false,
    vadMs: Date.now() - t0,
    ...(found.pcmKept && options.keepPcm ? { pcmFile: options.keepPcm.file } : {}),
  };
}
