import { decodePcmWindows, DEFAULT_WINDOW_SECONDS, SAMPLE_RATE, type FfmpegBinary, type PcmWindow } from '@podline/media';
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
}

export interface AudioTranscript {
  segments: Segment[];
  durationSeconds: number;
  /** Milliseconds spent waiting on the decoder (the rest is the engine). */
  decodeWaitMs: number;
  elapsedMs: number;
}

/**
 * Transcribe a whole audio file window by window. Window offsets are exact sample counts turned
 * into milliseconds without rounding, so timestamps stay continuous across windows (no drift).
 * The next window decodes while the engine works on the current one.
 */
export async function transcribeAudio(file: string, session: EngineSession, options: TranscribeAudioOptions = {}): Promise<AudioTranscript> {
  const started = Date.now();
  const windowSamples = Math.round((options.windowSeconds ?? DEFAULT_WINDOW_SECONDS) * SAMPLE_RATE);
  const windows = decodePcmWindows(file, { windowSamples, ffmpeg: options.ffmpeg });
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
