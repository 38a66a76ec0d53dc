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
  /**
   * Whole windows ffmpeg may decode ahead of the consumer (default 0: only the pipe's buffer). 1 lets
   * ffmpeg decode the next window on another core while the consumer works on this one, for one more
   * window of memory — for a consumer that is alone on the machine (the VAD); not while Whisper's threads
   * need every core.
   */
  readAhead?: number;
}

export const DEFAULT_WINDOW_SECONDS = 600;

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Copy `n` little-endian float32 samples from `bytes` at `offset` into `dest` at `at`. */
function copySamples(bytes: Buffer, offset: number, n: number, dest: Float32Array, at: number): void {
  const byteOffset = bytes.byteOffset + offset;
  if (LITTLE_ENDIAN && byteOffset % 4 === 0) dest.set(new Float32Array(bytes.buffer, byteOffset, n), at);
  else if (LITTLE_ENDIAN) dest.set(new Float32Array(Uint8Array.prototype.slice.call(bytes, offset, offset + 4 * n).buffer, 0, n), at);
  else for (let i = 0; i < n; i++) dest[at + i] = bytes.readFloatLE(offset + 4 * i);
}

/**
 * Decode an audio file to 16 kHz mono float32 PCM, streamed from ffmpeg and handed out in windows,
 * so memory stays at one window (plus `readAhead`) however long the episode (no temp WAV). The
 * consumer's pace drives ffmpeg through pipe backpressure. Throws MediaError for missing, empty,
 * undecodable or zero-sample input.
 */
export async function* decodePcmWindows(file: string, options: DecodeOptions = {}): AsyncGenerator<PcmWindow> {
  const windowSamples = Math.max(SAMPLE_RATE, Math.floor(options.windowSamples ?? DEFAULT_WINDOW_SECONDS * SAMPLE_RATE));
  const readAhead = Math.max(0, Math.floor(options.readAhead ?? 0));
  const stat = await fsp.stat(file).catch(() => {
    throw new MediaError(`audio file is missing: ${file}`);
  });
  if (stat.size === 0) throw new MediaError('audio file is empty (0 bytes): the download was cut short');
  const bin = options.ffmpeg ?? findFfmpeg();
  const proc = spawnPcmDecoder(file, bin.path);
  const stream = proc.stream;
  let window = new Float32Array(windowSamples);
  let filled = 0;
  let start = 0;
  // Full windows not yet handed out; the stream pauses while more than `readAhead` wait.
  const ready: PcmWindow[] = [];
  // A chunk may end mid-sample: carry the odd bytes to the next chunk.
  let carry = Buffer.alloc(0);
  let ended = false;
  let failed: Error | undefined;
  let wake: (() => void) | undefined;
  const signal = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const onData = (chunk: Buffer) => {
    const bytes = carry.length ? Buffer.concat([carry, chunk]) : chunk;
    const whole = bytes.length - (bytes.length % 4);
    carry = Buffer.from(bytes.subarray(whole));
    let offset = 0;
    while (offset < whole) {
      const n = Math.min((whole - offset) / 4, windowSamples - filled);
      copySamples(bytes, offset, n, window, filled);
      filled += n;
      offset += 4 * n;
      if (filled === windowSamples) {
        ready.push({ start, samples: window });
        start += filled;
        window = new Float32Array(windowSamples);
        filled = 0;
      }
    }
    if (ready.length >= Math.max(1, readAhead)) stream.pause();
    if (ready.length) signal();
  };
  stream.on('data', onData);
  stream.once('end', () => {
    ended = true;
    signal();
  });
  stream.once('error', (err: Error) => {
    failed ??= err;
    signal();
  });
  proc.done.catch((err: Error) => {
    failed ??= err;
    signal();
  });
  let finished = false;
  try {
    for (;;) {
      if (!ready.length && !ended && !failed) await new Promise<void>((resolve) => (wake = resolve));
      if (ready.length) {
        const next = ready.shift()!;
        // While the consumer has this window: ffmpeg fills the next `readAhead` ones (none: only the pipe's buffer).
        if (ready.length < readAhead) stream.resume();
        else stream.pause();
        yield next;
        if (!ready.length) stream.resume();
        continue;
      }
      if (failed && !ended) throw new MediaError(`ffmpeg could not decode the audio: ${failed.message}`);
      break;
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
    stream.off('data', onData);
    if (!finished) proc.kill();
  }
}

/**
 * Windows of a raw PCM file written from `decodePcmWindows`' windows on this machine (float32 in its own byte
 * order, 16 kHz mono): the same windows the decode would give, read back without running ffmpeg again (the
 * speech pass keeps its decode for Whisper's windows this way). Memory: one window.
 */
export async function* pcmFileWindows(file: string, options: { windowSamples?: number } = {}): AsyncGenerator<PcmWindow> {
  const windowSamples = Math.max(SAMPLE_RATE, Math.floor(options.windowSamples ?? DEFAULT_WINDOW_SECONDS * SAMPLE_RATE));
  const fh = await fsp.open(file, 'r');
  try {
    const { size } = await fh.stat();
    if (size % 4) throw new MediaError(`decoded audio ${file} is cut mid-sample (${size} bytes): it was not written whole`);
    let start = 0;
    while (start * 4 < size) {
      const n = Math.min(windowSamples, size / 4 - start);
      const samples = new Float32Array(n);
      const bytes = new Uint8Array(samples.buffer);
      let got = 0;
      while (got < bytes.length) {
        const { bytesRead } = await fh.read(bytes, got, bytes.length - got, start * 4 + got);
        if (!bytesRead) throw new MediaError(`decoded audio ${file} ended early: it changed while being read`);
        got += bytesRead;
      }
      yield { start, samples };
      start += n;
    }
  } finally {
    await fh.close();
  }
}
