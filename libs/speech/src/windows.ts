import { decodePcmWindows, pcmFileWindows, SAMPLE_RATE, type FfmpegBinary } from '@podline/media';
import type { SpeechRegions } from './regions';

/** A speech region placed in a window: `length` samples from `start` of the original at `at` in the window. */
export interface Piece {
  start: number;
  length: number;
  at: number;
}

/** What one engine call hears: whole regions, back to back, with what lay between them left out. */
export interface SpeechWindow {
  pieces: Piece[];
  /** Samples in the window (sum of the pieces' lengths). */
  samples: number;
}

/**
 * Pack regions, in order, into windows of at most `maxSamples`: a window is closed when the next
 * region does not fit, so a window never cuts a region (regions are at most a window long: see
 * regionsFromProbabilities). The non-speech between regions is what is dropped.
 */
export function packWindows(regions: Array<[number, number]>, maxSamples: number): SpeechWindow[] {
  const windows: SpeechWindow[] = [];
  let cur: SpeechWindow = { pieces: [], samples: 0 };
  for (const [s, e] of regions) {
    const length = e - s;
    if (length <= 0) continue;
    if (length > maxSamples) throw new Error(`speech region [${s}, ${e}) is longer than the window (${maxSamples} samples)`);
    if (cur.samples + length > maxSamples && cur.pieces.length) {
      windows.push(cur);
      cur = { pieces: [], samples: 0 };
    }
    cur.pieces.push({ start: s, length, at: cur.samples });
    cur.samples += length;
  }
  if (cur.pieces.length) windows.push(cur);
  return windows;
}

/** Where a time in a window lies in the original: the sample, and which piece it fell in. */
export interface Mapped {
  sample: number;
  piece: number;
}

/**
 * Map a position in a window (in samples) back to the original audio, exactly: a start position
 * belongs to the piece with at ≤ p < at + length, an end position to the piece with at < p ≤ at + length.
 * Undefined when the position lies beyond the window's audio (text past the end: nothing was said there).
 */
export function mapToOriginal(window: SpeechWindow, p: number, side: 'start' | 'end'): Mapped | undefined {
  if (p < 0) p = 0;
  if (side === 'start' ? p >= window.samples : p > window.samples) return undefined;
  // Binary search: the last piece with at ≤ p (for an end, at < p).
  let lo = 0;
  let hi = window.pieces.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    const at = window.pieces[mid].at;
    if (side === 'start' ? at <= p : at < p) lo = mid;
    else hi = mid - 1;
  }
  const piece = window.pieces[lo];
  return { sample: piece.start + (p - piece.at), piece: lo };
}

/** Milliseconds ↔ samples at 16 kHz: whisper gives integral milliseconds, which are exact sample counts (× 16). */
export const msToSamples = (ms: number) => Math.round((ms * SAMPLE_RATE) / 1000);
export const samplesToMs = (samples: number) => (samples * 1000) / SAMPLE_RATE;

/**
 * The audio of each window, in order, from one streaming decode of `file` (memory: one window plus
 * one decode chunk). The generator is pulled one window ahead by the caller to overlap decoding.
 */
export async function* windowAudio(
  file: string,
  windows: SpeechWindow[],
  /** `pcmFile`: the episode already decoded (`detectSpeech`'s `keepPcm`), read instead of decoding again. */
  options: { ffmpeg?: FfmpegBinary; chunkSeconds?: number; pcmFile?: string } = {},
): AsyncGenerator<{ window: SpeechWindow; samples: Float32Array; index: number }> {
  if (!windows.length) return;
  let wi = 0;
  let pi = 0;
  let buf = new Float32Array(windows[0].samples);
  const chunkSamples = Math.round((options.chunkSeconds ?? 30) * SAMPLE_RATE);
  const chunks = options.pcmFile ? pcmFileWindows(options.pcmFile, { windowSamples: chunkSamples }) : decodePcmWindows(file, { windowSamples: chunkSamples, ffmpeg: options.ffmpeg });
  for await (const chunk of chunks) {
    const cEnd = chunk.start + chunk.samples.length;
    while (wi < windows.length) {
      const w = windows[wi];
      const piece = w.pieces[pi];
      const from = Math.max(piece.start, chunk.start);
      const to = Math.min(piece.start + piece.length, cEnd);
      if (to > from) buf.set(chunk.samples.subarray(from - chunk.start, to - chunk.start), piece.at + (from - piece.start));
      if (piece.start + piece.length > cEnd) break; // the rest of this piece is in the next chunk
      pi++;
      if (pi === w.pieces.length) {
        yield { window: w, samples: buf, index: wi };
        wi++;
        pi = 0;
        if (wi < windows.length) buf = new Float32Array(windows[wi].samples);
      }
    }
    if (wi === windows.length) return; // the rest of the episode holds no speech
  }
  if (wi < windows.length) throw new Error(`the audio ended before its speech regions did (window ${wi + 1} of ${windows.length}): delete the speech-regions cache of this episode`);
}
