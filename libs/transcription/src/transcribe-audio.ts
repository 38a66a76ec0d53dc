import { decodePcmWindows, DEFAULT_WINDOW_SECONDS, SAMPLE_RATE, type FfmpegBinary, type PcmWindow } from '@podline/media';
import {
  emptyGuardCounts,
  guardText,
  mapWindowSegments,
  packWindows,
  windowAudio,
  type GuardCounts,
  type SpeechRegions,
} from '@podline/speech';
import type { EngineSession } from './engine';
import type { Segment } from './srt';

export interface AudioProgress {
  /** Seconds of audio transcribed so far. */
  doneSeconds: number;
  /** Wall-clock milliseconds since the episode started. */
  elapsedMs: number;
  /** True at the end of a window; false for the engine's reports within one. */
  windowDone: boolean;
}

export interface TranscribeAudioOptions {
  /** Window length in seconds (default 600). Each window is one engine call. */
  windowSeconds?: number;
  ffmpeg?: FfmpegBinary;
  onProgress?: (p: AudioProgress) => void;
  /**
   * Speech regions of the file (from the VAD): the engine then hears only those, packed into windows
   * of `windowSeconds` (default 30) of speech, and Whisper's failure modes are dropped (guards).
   */
  speech?: SpeechRegions;
  /** Fixed windows only: a decoder of this file already started (`decodeEpisodeAhead`), windows of `windowSeconds`. */
  windows?: AsyncGenerator<PcmWindow>;
  /** Speech windows only: the file already decoded by the speech pass (its `pcmFile`), read instead of decoding again. */
  pcmFile?: string;
}

/** Samples per fixed window of `windowSeconds` (default 600). */
export function fixedWindowSamples(windowSeconds?: number): number {
  return Math.round((windowSeconds ?? DEFAULT_WINDOW_SECONDS) * SAMPLE_RATE);
}

export interface AudioTranscript {
  segments: Segment[];
  durationSeconds: number;
  /** Milliseconds spent waiting on the decoder (the rest is the engine). */
  decodeWaitMs: number;
  elapsedMs: number;
  /** With speech windows: seconds the engine heard, and what the guards dropped or cut. */
  speechSeconds?: number;
  guards?: GuardCounts;
}

/**
 * Transcribe a whole audio file window by window. Window offsets are exact sample counts turned
 * into milliseconds without rounding, so timestamps stay continuous across windows (no drift).
 * The next window decodes while the engine works on the current one.
 */
export async function transcribeAudio(file: string, session: EngineSession, options: TranscribeAudioOptions = {}): Promise<AudioTranscript> {
  if (options.speech) return transcribeSpeech(file, session, options.speech, options);
  const started = Date.now();
  const windows = options.windows ?? decodePcmWindows(file, { windowSamples: fixedWindowSamples(options.windowSeconds), ffmpeg: options.ffmpeg });
  const segments: Segment[] = [];
  let decodeWaitMs = 0;
  let total = 0;
  try {
    const nextWindow = () => windows.next();
    let t = Date.now();
    let pending = nextWindow();
    for (;;) {
      const step = await pending;
      decodeWaitMs += Date.now() - t;
      if (step.done) break;
      const window: PcmWindow = step.value;
      pending = nextWindow(); // prefetch: ffmpeg decodes the next window during this one
      pending.catch(() => undefined); // surfaced when awaited
      const offsetMs = (window.start * 1000) / SAMPLE_RATE;
      const windowMs = (window.samples.length * 1000) / SAMPLE_RATE;
      const report = (doneMs: number) =>
        options.onProgress?.({ doneSeconds: (offsetMs + Math.min(doneMs, windowMs)) / 1000, elapsedMs: Date.now() - started, windowDone: false });
      for (const seg of await session.transcribe(window.samples, report)) {
        // whisper pads the last 30 s chunk: keep times inside this window.
        const startMs = Math.min(seg.startMs, windowMs);
        segments.push({ startMs: offsetMs + startMs, endMs: offsetMs + Math.min(Math.max(seg.endMs, startMs), windowMs), text: seg.text });
      }
      total = window.start + window.samples.length;
      options.onProgress?.({ doneSeconds: total / SAMPLE_RATE, elapsedMs: Date.now() - started, windowDone: true });
      t = Date.now();
    }
  } finally {
    await windows.return(undefined);
  }
  return { segments, durationSeconds: total / SAMPLE_RATE, decodeWaitMs, elapsedMs: Date.now() - started };
}

/** Speech windows are 30 s by default: one Whisper chunk each, so no text context carries over. */
export const DEFAULT_SPEECH_WINDOW_SECONDS = 30;

/**
 * Transcribe only the speech: regions packed into windows (never cut inside a region), each window
 * one engine call (no text context carried from one window to the next; the site prompt is given to
 * each), its segments mapped back to the original audio by exact sample counts, then guarded.
 */
async function transcribeSpeech(file: string, session: EngineSession, speech: SpeechRegions, options: TranscribeAudioOptions): Promise<AudioTranscript> {
  const started = Date.now();
  const windowSamples = Math.round((options.windowSeconds ?? DEFAULT_SPEECH_WINDOW_SECONDS) * SAMPLE_RATE);
  const windows = packWindows(speech.regions, windowSamples);
  const speechSamples = windows.reduce((n, w) => n + w.samples, 0);
  const guards = emptyGuardCounts();
  const history: string[] = [];
  const segments: Segment[] = [];
  const audio = windowAudio(file, windows, { ffmpeg: options.ffmpeg, pcmFile: options.pcmFile });
  let decodeWaitMs = 0;
  let heard = 0;
  try {
    let t = Date.now();
    let pending = audio.next();
    for (;;) {
      const step = await pending;
      decodeWaitMs += Date.now() - t;
      if (step.done) break;
      const { window, samples } = step.value;
      pending = audio.next(); // prefetch the next window while the engine works
      pending.catch(() => undefined);
      // Progress in the original's time: the end of the speech reached so far.
      const lastPiece = window.pieces[window.pieces.length - 1];
      const originalAt = (doneMs: number) => {
        const p = Math.min(window.samples, Math.round((doneMs * SAMPLE_RATE) / 1000));
        const piece = [...window.pieces].reverse().find((x) => x.at <= p) ?? window.pieces[0];
        return (piece.start + Math.min(p - piece.at, piece.length)) / SAMPLE_RATE;
      };
      const raw = await session.transcribe(samples, (doneMs) =>
        options.onProgress?.({ doneSeconds: originalAt(doneMs), elapsedMs: Date.now() - started, windowDone: false }),
      );
      segments.push(...guardText(mapWindowSegments(window, raw, guards), guards, undefined, history));
      heard += window.samples;
      options.onProgress?.({ doneSeconds: (lastPiece.start + lastPiece.length) / SAMPLE_RATE, elapsedMs: Date.now() - started, windowDone: true });
      t = Date.now();
    }
  } finally {
    await audio.return(undefined);
  }
  options.onProgress?.({ doneSeconds: speech.totalSamples / SAMPLE_RATE, elapsedMs: Date.now() - started, windowDone: true });
  return {
    segments,
    durationSeconds: speech.totalSamples / SAMPLE_RATE,
    decodeWaitMs,
    elapsedMs: Date.now() - started,
    speechSeconds: Math.min(heard, speechSamples) / SAMPLE_RATE,
    guards,
  };
}
