import { execFileSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { encodeWav16, findFfmpeg, findOnPath, SAMPLE_RATE } from '@podline/media';

/**
 * Audio with a known layout for tests and benchmarks: speech (espeak-ng when installed, else a
 * synthesised voice: glottal harmonics through vowel formants, syllables with consonant noise,
 * which Silero VAD hears as speech), music-like chords, and silence.
 */

/** A small deterministic generator, so every run makes the same audio. */
function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 0x100000000;
  };
}

const VOWELS = [
  [730, 1090, 2440],
  [270, 2290, 3010],
  [300, 870, 2240],
  [530, 1840, 2480],
  [640, 1190, 2390],
  [490, 1350, 1690],
];

/** `seconds` of a synthetic voice: syllables of 150–300 ms, each a vowel after a short noise consonant. */
export function synthSpeech(seconds: number, seed = 1): Float32Array {
  const rnd = prng(seed);
  const n = Math.round(seconds * SAMPLE_RATE);
  const out = new Float32Array(n);
  let phase = 0;
  let i = 0;
  while (i < n) {
    const syl = Math.round((0.15 + 0.15 * rnd()) * SAMPLE_RATE);
    const v = VOWELS[Math.floor(rnd() * VOWELS.length)];
    const f0base = 100 + 40 * rnd();
    const cons = Math.round(0.04 * SAMPLE_RATE);
    for (let k = 0; k < cons && i < n; k++, i++) out[i] = (rnd() * 2 - 1) * 0.05;
    for (let k = 0; k < syl && i < n; k++, i++) {
      const t = k / SAMPLE_RATE;
      const f0 = f0base * (1 + 0.1 * Math.sin(2 * Math.PI * 3 * t) - (0.15 * k) / syl);
      phase += (2 * Math.PI * f0) / SAMPLE_RATE;
      let s = 0;
      for (let h = 1; h * f0 < 4000; h++) {
        const f = h * f0;
        let amp = 0;
        v.forEach((F, j) => (amp += 1 / (j + 1) / (1 + ((f - F) / 80) ** 2)));
        s += (amp * Math.sin(h * phase)) / Math.sqrt(h);
      }
      out[i] = 0.15 * Math.sin((Math.PI * k) / syl) * s;
    }
  }
  return out;
}

/** `seconds` of music-like sound: a chord progression with a beat (no voice). */
export function synthMusic(seconds: number): Float32Array {
  const n = Math.round(seconds * SAMPLE_RATE);
  const out = new Float32Array(n);
  const chords = [
    [261.6, 329.6, 392],
    [220, 261.6, 329.6],
    [174.6, 220, 261.6],
    [196, 246.9, 293.7],
  ];
  for (let i = 0; i < n; i++) {
    const t = i / SAMPLE_RATE;
    const c = chords[Math.floor(t / 2) % 4];
    let s = 0;
    for (const f of c) s += Math.sin(2 * Math.PI * f * t) + 0.3 * Math.sin(4 * Math.PI * f * t);
    const beat = (t * 2) % 1;
    out[i] = 0.08 * s * (0.6 + 0.4 * Math.exp(-beat * 5));
  }
  return out;
}

/** One part of a layout: what it is and where it lies, in samples. */
export interface LayoutPart {
  kind: 'speech' | 'music' | 'silence';
  start: number;
  end: number;
  /** The sentence spoken (speech parts). */
  text?: string;
}

export type LayoutSpec = Array<{ kind: 'speech'; text: string; seconds?: number } | { kind: 'music' | 'silence'; seconds: number }>;

/** espeak-ng's voice for `text` at 16 kHz, or undefined when espeak-ng is not installed. */
function espeak(text: string, workDir: string, i: number): Float32Array | undefined {
  const bin = findOnPath('espeak-ng');
  if (!bin) return undefined;
  const wav = path.join(workDir, `sentence-${i}.wav`);
  execFileSync(bin, ['-w', wav, text]);
  const raw = execFileSync(findFfmpeg().path, ['-hide_banner', '-loglevel', 'error', '-i', wav, '-f', 'f32le', '-ac', '1', '-ar', String(SAMPLE_RATE), '-'], { maxBuffer: 1 << 28 });
  return new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length));
}

/**
 * Write a 16 kHz mono WAV made of the parts of `spec` in order and return where each part lies.
 * Speech parts are espeak-ng saying `text` when installed, else `seconds` (default 3) of the
 * synthetic voice. `voice: 'synth'` forces the synthetic voice.
 */
export async function writeLayoutAudio(file: string, spec: LayoutSpec, options: { voice?: 'auto' | 'synth' } = {}): Promise<{ parts: LayoutPart[]; totalSamples: number; voice: string }> {
  await fsp.mkdir(path.dirname(file), { recursive: true });
  const chunks: Float32Array[] = [];
  const parts: LayoutPart[] = [];
  let at = 0;
  let voice = 'synthetic';
  spec.forEach((p, i) => {
    let pcm: Float32Array;
    if (p.kind === 'speech') {
      const spoken = options.voice === 'synth' ? undefined : espeak(p.text, path.dirname(file), i);
      if (spoken) voice = 'espeak-ng';
      pcm = spoken ?? synthSpeech(p.seconds ?? 3, i + 1);
    } else pcm = p.kind === 'music' ? synthMusic(p.seconds) : new Float32Array(Math.round(p.seconds * SAMPLE_RATE));
    chunks.push(pcm);
    parts.push({ kind: p.kind, start: at, end: at + pcm.length, ...(p.kind === 'speech' ? { text: p.text } : {}) });
    at += pcm.length;
  });
  const all = new Float32Array(at);
  let o = 0;
  for (const c of chunks) {
    all.set(c, o);
    o += c.length;
  }
  await fsp.writeFile(file, encodeWav16(all));
  return { parts, totalSamples: at, voice };
}

/**
 * A podcast-like layout of about `seconds`: `introSeconds` of music, then sentences of 2–7 s with
 * pauses of 0.3–0.8 s inside paragraphs and 2–4 s between them, and a music sting now and then.
 */
export function podcastLayout(seconds: number, introSeconds = 60, seed = 7): LayoutSpec {
  const rnd = prng(seed);
  const spec: LayoutSpec = [{ kind: 'music', seconds: introSeconds }];
  let t = introSeconds;
  let n = 0;
  while (t < seconds - 8) {
    const len = 2 + 5 * rnd();
    spec.push({ kind: 'speech', text: `Sentence number ${++n} of the show.`, seconds: len });
    t += len;
    const pause = n % 6 === 0 ? 2 + 2 * rnd() : 0.3 + 0.5 * rnd();
    spec.push({ kind: 'silence', seconds: pause });
    t += pause;
    if (n % 40 === 0) {
      spec.push({ kind: 'music', seconds: 8 });
      t += 8;
    }
  }
  if (seconds - t > 0) spec.push({ kind: 'silence', seconds: seconds - t });
  return spec;
}
