import { promises as fsp } from 'node:fs';
import { findFfmpeg, MediaError, type FfmpegBinary } from './ffmpeg-binary';
import { SAMPLE_RATE, spawnPcmDecoder } from './fluent';

/** A slice of decoded audio: `samples` starting at sample `start` of the episode. */
export interface PcmWindow {
  start: number;
  samples: Float32Array;
}

export interface DecodeOptions {
  /** Samples per window (default 10 minutes). The last window is shorter. */
  windowSamples?: number;
  ffmpeg?: FfmpegBinary;
}

export const DEFAULT_WINDOW_SECONDS = 600;

/**
 * Decode an audio file to 16 kHz mono float32 PCM, streamed from ffmpeg and handed out in windows,
 * so memory stays at one window however long the episode (no temp WAV). The consumer's pace
 * drives ffmpeg through pipe backpressure. Throws MediaError for missing, empty, undecodable or
 * zero-sample input.
 */
export async function* decodePcmWindows(file: string, options: DecodeOptions = {}): AsyncGenerator<PcmWindow> {
  const windowSamples = Math.max(SAMPLE_RATE, Math.floor(options.windowSamples ?? DEFAULT_WINDOW_SECONDS * SAMPLE_RATE));
  const stat = await fsp.stat(file).catch(() => {
    throw new MediaError(`audio file is missing: ${file}`);
  });
  if (stat.size === 0) throw new MediaError('audio file is empty (0 bytes): the download was cut short');
  const bin = options.ffmpeg ?? findFfmpeg();
  const proc = spawnPcmDecoder(file, bin.path);
  let window = new Float32Array(windowSamples);
  let filled = 0;
  let start = 0;
  // A chunk may end mid-sample: carry the odd bytes to the next chunk.
  let carry = Buffer.alloc(0);
  let finished = false;
  try {
    for await (const chunk of proc.stream as AsyncIterable<Buffer>) {
      const bytes = carry.length ? Buffer.concat([carry, chunk]) : chunk;
      const whole = bytes.length - (bytes.length % 4);
      carry = Buffer.from(bytes.subarray(whole));
      let offset = 0;
      while (offset < whole) {
        const n = Math.min((whole - offset) / 4, windowSamples - filled);
        for (let i = 0; i < n; i++) window[filled + i] = bytes.readFloatLE(offset + 4 * i);
        filled += n;
        offset += 4 * n;
        if (filled === windowSamples) {
          yield { start, samples: window };
          start += filled;
          window = new Float32Array(windowSamples);
          filled = 0;
        }
      }
    }
    try {
      await proc.done;
    } catch (err) {
      throw new MediaError(`ffmpeg could not decode the audio: ${(err as Error).message}`);
    }
    finished = true;
    if (filled > 0) yield { start, samples: window.subarray(0, filled) };
    if (start + filled === 0) throw new MediaError('ffmpeg decoded no audio samples from the file: it has no usable audio stream');
  } finally {
    if (!finished) proc.kill();
  }
}
