import { chmodSync, mkdtempSync, promises as fsp, writeFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { decodePcmWindows, encodeWav16, findFfmpeg, MediaError, pcmFileWindows, SAMPLE_RATE, type PcmWindow } from './index';
import { makeTone } from './testing/audio';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'podline-media-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function collect(file: string, windowSamples?: number): Promise<PcmWindow[]> {
  const out: PcmWindow[] = [];
  for await (const w of decodePcmWindows(file, { windowSamples })) out.push({ start: w.start, samples: w.samples.slice() });
  return out;
}

describe('findFfmpeg', () => {
  it('prefers FFMPEG_PATH, and rejects one that is not executable', () => {
    const real = findFfmpeg({ PATH: '' });
    expect(real.source).toBe('@ffmpeg-installer/ffmpeg');
    expect(findFfmpeg({ FFMPEG_PATH: real.path, PATH: '' })).toEqual({ path: real.path, source: 'FFMPEG_PATH' });
    expect(() => findFfmpeg({ FFMPEG_PATH: path.join(dir, 'nope') })).toThrow(/FFMPEG_PATH .* not an executable/);
  });
  it('uses ffmpeg on PATH before the npm package', () => {
    const bin = path.join(dir, 'bin');
    require('node:fs').mkdirSync(bin, { recursive: true });
    writeFileSync(path.join(bin, 'ffmpeg'), '#!/bin/sh\n');
    chmodSync(path.join(bin, 'ffmpeg'), 0o755);
    expect(findFfmpeg({ PATH: bin })).toEqual({ path: path.join(bin, 'ffmpeg'), source: 'PATH' });
  });
});

describe('decodePcmWindows', () => {
  it('reading ahead decodes the next window while the consumer works, with the same samples', async () => {
    const file = await makeTone(path.join(dir, 'ahead.mp3'), 52.5, 330);
    const plain = await collect(file, 160000);
    const ahead: PcmWindow[] = [];
    let readyBeforeAsked = 0;
    const it = decodePcmWindows(file, { windowSamples: 160000, readAhead: 1 });
    for (;;) {
      // The consumer is busy for a while: with read-ahead, ffmpeg has the next window ready by then
      // (a 10 s window is 640 KB, far more than the pipe and stream buffers hold without it).
      await new Promise((r) => setTimeout(r, 150));
      const t = Date.now();
      const next = await it.next();
      if (next.done) break;
      if (Date.now() - t < 5 && next.value.samples.length === 160000) readyBeforeAsked++;
      ahead.push({ start: next.value.start, samples: next.value.samples.slice() });
    }
    expect(ahead.map((w) => w.start)).toEqual(plain.map((w) => w.start));
    ahead.forEach((w, i) => expect(Buffer.from(w.samples.buffer).equals(Buffer.from(plain[i].samples.buffer))).toBe(true));
    expect(plain.length).toBeGreaterThan(4);
    expect(readyBeforeAsked).toBeGreaterThanOrEqual(plain.length - 2);
  });
  it('decodes an MP3 to 16 kHz mono float PCM in contiguous windows', async () => {
    const file = await makeTone(path.join(dir, 'tone.mp3'), 2.5, 440);
    const windows = await collect(file, SAMPLE_RATE);
    expect(windows.map((w) => w.start)).toEqual([0, 16000, 32000]);
    expect(windows.map((w) => w.samples.length)).toEqual([16000, 16000, 8000]);
    // The content is the tone: count rising zero crossings over the middle second.
    const mid = windows[1].samples;
    let crossings = 0;
    for (let i = 1; i < mid.length; i++) if (mid[i - 1] < 0 && mid[i] >= 0) crossings++;
    expect(crossings).toBeGreaterThanOrEqual(438);
    expect(crossings).toBeLessThanOrEqual(442);
    const peak = mid.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expect(peak).toBeGreaterThan(0.05);
    expect(peak).toBeLessThanOrEqual(1);
  });

  it('decodes the audio stream of a video (an episode kept with includeVideo)', async () => {
    const file = path.join(dir, 'episode.mov');
    await promisify(execFile)(findFfmpeg().path, [
      '-hide_banner', '-loglevel', 'error', '-y',
      '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=10:duration=2',
      '-f', 'lavfi', '-i', 'sine=frequency=440:duration=2',
      '-c:v', 'mpeg4', '-c:a', 'aac', '-shortest', file,
    ]);
    const windows = await collect(file);
    const samples = windows.reduce((n, w) => n + w.samples.length, 0);
    expect(Math.abs(samples - 2 * SAMPLE_RATE)).toBeLessThan(SAMPLE_RATE / 10);
    expect(Math.max(...windows[0].samples.slice(1000, 20000))).toBeGreaterThan(0.1); // the tone, not silence
  });

  it('gives one window for short audio with the default window size', async () => {
    const file = await makeTone(path.join(dir, 'short.wav'), 1, 1000, 8000);
    const windows = await collect(file);
    expect(windows).toHaveLength(1);
    expect(windows[0].samples.length).toBe(16000);
  });

  it('stops ffmpeg when the consumer stops early', async () => {
    const file = await makeTone(path.join(dir, 'long.mp3'), 20, 300);
    let seen = 0;
    for await (const w of decodePcmWindows(file, { windowSamples: SAMPLE_RATE })) {
      seen += w.samples.length;
      break;
    }
    expect(seen).toBe(SAMPLE_RATE);
  });

  it('names a zero-byte file as empty', async () => {
    const file = path.join(dir, 'empty.mp3');
    writeFileSync(file, '');
    await expect(collect(file)).rejects.toThrow(new MediaError('audio file is empty (0 bytes): the download was cut short'));
  });

  it('reports a corrupt MP3 with ffmpeg\'s reason', async () => {
    const file = path.join(dir, 'corrupt.mp3');
    writeFileSync(file, Buffer.from('this is not audio at all, just text pretending to be an mp3 file'.repeat(50)));
    const err = await collect(file).catch((e) => e);
    expect(err).toBeInstanceOf(MediaError);
    expect(err.message).toMatch(/^ffmpeg could not decode the audio: .*(Invalid data|could not find|Failed)/i);
  });

  it('reports a missing file', async () => {
    await expect(collect(path.join(dir, 'missing.mp3'))).rejects.toThrow(/audio file is missing/);
  });
});

describe('pcmFileWindows', () => {
  it('reads a written-out decode back as the same windows', async () => {
    const file = await makeTone(path.join(dir, 'kept.mp3'), 7.3, 440);
    const decoded = await collect(file, SAMPLE_RATE * 2);
    const raw = path.join(dir, 'kept.f32');
    await fsp.writeFile(raw, Buffer.concat(decoded.map((w) => Buffer.from(w.samples.buffer, w.samples.byteOffset, w.samples.byteLength))));
    const back: PcmWindow[] = [];
    for await (const w of pcmFileWindows(raw, { windowSamples: SAMPLE_RATE * 2 })) back.push(w);
    expect(back.map((w) => [w.start, w.samples.length])).toEqual(decoded.map((w) => [w.start, w.samples.length]));
    expect(back.map((w) => w.samples)).toEqual(decoded.map((w) => w.samples));
  });

  it('refuses a file cut mid-sample', async () => {
    const raw = path.join(dir, 'cut.f32');
    await fsp.writeFile(raw, Buffer.alloc(4 * 100 + 2));
    const read = async () => {
      for await (const _ of pcmFileWindows(raw)) void _;
    };
    await expect(read()).rejects.toThrow(/cut mid-sample \(402 bytes\)/);
  });
});

describe('encodeWav16', () => {
  it('writes a 16 kHz mono 16-bit WAV header and clamped samples', async () => {
    const wav = encodeWav16(new Float32Array([0, 1, -1, 2, 0.5]));
    expect(wav.toString('ascii', 0, 4)).toBe('RIFF');
    expect(wav.readUInt32LE(24)).toBe(16000);
    expect(wav.readUInt16LE(22)).toBe(1);
    expect(wav.readUInt32LE(40)).toBe(10);
    expect([0, 1, 2, 3, 4].map((i) => wav.readInt16LE(44 + 2 * i))).toEqual([0, 32767, -32768, 32767, 16384]);
    // ffmpeg reads it back as the same samples.
    const file = path.join(dir, 'back.wav');
    await fsp.writeFile(file, encodeWav16(new Float32Array(16000).fill(0.25)));
    const [w] = await collect(file);
    expect(w.samples.length).toBe(16000);
    expect(Math.abs(w.samples[100] - 0.25)).toBeLessThan(1e-3);
  });
});
