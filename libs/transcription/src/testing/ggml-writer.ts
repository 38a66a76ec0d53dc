import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic, tempPathFor } from '@podline/config';
import { GGML_MAGIC, GGML_TYPE_SIZES, HPARAM_NAMES, type WhisperHparams } from '../ggml';

/**
 * Writes whisper.cpp-format model files from our own code, for tests and benchmarks (no real model
 * can be downloaded there). The layout and tensor names/shapes follow whisper_model_load() in
 * smart-whisper's vendored whisper.cpp/src/whisper.cpp.
 *
 * - header-only: hparams, mel filters and a small vocab, no tensors. whisper.cpp loads it ("no tensors
 *   loaded from model file - assuming empty model for testing") and runs on uninitialised weights.
 * - random: every tensor present, filled with small seeded pseudo-random weights: a real forward
 *   pass of realistic cost, producing garbage (or no) text.
 */

/** English-only vocabulary size (the .en models): token ids whisper.cpp hard-codes depend on it. */
const N_VOCAB_EN = 51864;

export const TINY_TEST_HPARAMS: WhisperHparams = {
  n_vocab: N_VOCAB_EN,
  n_audio_ctx: 1500,
  n_audio_state: 64,
  n_audio_head: 2,
  n_audio_layer: 1,
  n_text_ctx: 448,
  n_text_state: 64,
  n_text_head: 2,
  n_text_layer: 1,
  n_mels: 80,
  ftype: 1,
};

/** Shapes of OpenAI's tiny.en and base.en, for benchmark models of realistic size and cost. */
export const REALISTIC_HPARAMS: Record<'tiny.en' | 'base.en', WhisperHparams> = {
  'tiny.en': { ...TINY_TEST_HPARAMS, n_audio_state: 384, n_audio_head: 6, n_audio_layer: 4, n_text_state: 384, n_text_head: 6, n_text_layer: 4 },
  'base.en': { ...TINY_TEST_HPARAMS, n_audio_state: 512, n_audio_head: 8, n_audio_layer: 6, n_text_state: 512, n_text_head: 8, n_text_layer: 6 },
};

const F32 = 0;
const F16 = 1;
const Q5_0 = 6;
const Q5_1 = 7;
const Q8_0 = 8;

/** ggml_ftype of the file (hparams.ftype % 1000) → ggml_type of its 2-D weights: f32, f16, q8_0, q5_0, q5_1. */
const FTYPE_WEIGHT_TYPE: Record<number, number> = { 0: F32, 1: F16, 7: Q8_0, 8: Q5_0, 9: Q5_1 };

/** hparams.ftype of a quantized model as whisper.cpp's quantize tool writes it (ftype + 1000 × quantisation version 2). */
export const QUANTIZED_FTYPE = { q8_0: 2007, q5_0: 2008, q5_1: 2009 } as const;

interface TensorSpec {
  name: string;
  /** ne[0..]: innermost first, as ggml stores it. */
  ne: number[];
  type: number;
  /** 'one' for layer-norm weights, 'zero' for biases, 'random' otherwise. */
  init: 'one' | 'zero' | 'random';
}

/** Every tensor whisper_model_load() expects, in its order, with exact names and shapes. */
export function whisperTensorSpecs(h: WhisperHparams): TensorSpec[] {
  const ftype = h.ftype % 1000;
  const wtype = FTYPE_WEIGHT_TYPE[ftype];
  if (wtype === undefined) throw new Error(`the test model writer supports ftypes ${Object.keys(FTYPE_WEIGHT_TYPE).join(', ')} (f32, f16, q8_0, q5_0, q5_1), not ${ftype}`);
  const vtype = wtype === F32 ? F32 : F16; // conv weights: f32 for f32 models, else f16 (as whisper.cpp's loader expects)
  const specs: TensorSpec[] = [];
  const t = (name: string, ne: number[], type: number, init: TensorSpec['init'] = 'random') => specs.push({ name, ne, type, init });
  const a = h.n_audio_state;
  const s = h.n_text_state;

  t('encoder.positional_embedding', [a, h.n_audio_ctx], F32);
  t('encoder.conv1.weight', [3, h.n_mels, a], vtype);
  t('encoder.conv1.bias', [1, a], F32, 'zero');
  t('encoder.conv2.weight', [3, a, a], vtype);
  t('encoder.conv2.bias', [1, a], F32, 'zero');
  t('encoder.ln_post.weight', [a], F32, 'one');
  t('encoder.ln_post.bias', [a], F32, 'zero');
  const block = (prefix: string, n: number, cross: boolean) => {
    t(`${prefix}.mlp_ln.weight`, [n], F32, 'one');
    t(`${prefix}.mlp_ln.bias`, [n], F32, 'zero');
    t(`${prefix}.mlp.0.weight`, [n, 4 * n], wtype);
    t(`${prefix}.mlp.0.bias`, [4 * n], F32, 'zero');
    t(`${prefix}.mlp.2.weight`, [4 * n, n], wtype);
    t(`${prefix}.mlp.2.bias`, [n], F32, 'zero');
    const attn = (name: string, ln: string) => {
      t(`${prefix}.${ln}.weight`, [n], F32, 'one');
      t(`${prefix}.${ln}.bias`, [n], F32, 'zero');
      t(`${prefix}.${name}.query.weight`, [n, n], wtype);
      t(`${prefix}.${name}.query.bias`, [n], F32, 'zero');
      t(`${prefix}.${name}.key.weight`, [n, n], wtype);
      t(`${prefix}.${name}.value.weight`, [n, n], wtype);
      t(`${prefix}.${name}.value.bias`, [n], F32, 'zero');
      t(`${prefix}.${name}.out.weight`, [n, n], wtype);
      t(`${prefix}.${name}.out.bias`, [n], F32, 'zero');
    };
    attn('attn', 'attn_ln');
    if (cross) attn('cross_attn', 'cross_attn_ln');
  };
  for (let i = 0; i < h.n_audio_layer; i++) block(`encoder.blocks.${i}`, a, false);
  t('decoder.positional_embedding', [s, h.n_text_ctx], F32);
  t('decoder.token_embedding.weight', [s, h.n_vocab], wtype);
  t('decoder.ln.weight', [s], F32, 'one');
  t('decoder.ln.bias', [s], F32, 'zero');
  for (let i = 0; i < h.n_text_layer; i++) block(`decoder.blocks.${i}`, s, true);
  return specs;
}

/** mulberry32: a tiny seeded PRNG, so generated models are byte-identical run to run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const f32buf = new Float32Array(1);
const u32buf = new Uint32Array(f32buf.buffer);
/** IEEE half from a float (round-to-nearest on the mantissa; weights here are small and normal). */
function toHalf(v: number): number {
  f32buf[0] = v;
  const x = u32buf[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = ((x >>> 23) & 0xff) - 127 + 15;
  if (exp <= 0) return sign; // flush tiny values to zero
  if (exp >= 31) return sign | 0x7c00;
  const mantissa = Math.min(0x3ff, ((x >>> 13) & 0x3ff) + ((x >>> 12) & 1));
  return sign | (exp << 10) | mantissa;
}

function headerBytes(h: WhisperHparams, tokens: number): Buffer {
  const nMel = h.n_mels;
  const nFft = 201; // whisper's 400-sample FFT → 201 bins
  const vocab = Array.from({ length: tokens }, (_, i) => Buffer.from([i]));
  const head = Buffer.alloc(4 + 4 * HPARAM_NAMES.length + 8 + 4 * nMel * nFft + 4);
  let o = head.writeUInt32LE(GGML_MAGIC, 0);
  for (const k of HPARAM_NAMES) o = head.writeInt32LE(h[k], o);
  o = head.writeInt32LE(nMel, o);
  o = head.writeInt32LE(nFft, o);
  // Triangular-ish filters: each mel band takes a few neighbouring FFT bins, so tones show up in the mel.
  for (let m = 0; m < nMel; m++) {
    for (let f = 0; f < nFft; f++) {
      const centre = Math.round(((m + 1) * nFft) / (nMel + 2));
      o = head.writeFloatLE(Math.max(0, 1 - Math.abs(f - centre) / 3) * 0.01, o);
    }
  }
  head.writeInt32LE(tokens, o);
  // Byte tokens 0..255 (one byte each), like GPT-2's byte-level base vocabulary: any prompt tokenises.
  const parts = vocab.map((b) => {
    const len = Buffer.alloc(4);
    len.writeUInt32LE(b.length, 0);
    return Buffer.concat([len, b]);
  });
  return Buffer.concat([head, ...parts]);
}

export interface TestModelOptions {
  kind: 'header-only' | 'random';
  hparams?: WhisperHparams;
  seed?: number;
}

/** Write a model file (atomically). Returns its size in bytes. */
export async function writeTestModel(file: string, options: TestModelOptions): Promise<number> {
  const h = options.hparams ?? TINY_TEST_HPARAMS;
  const header = headerBytes(h, 256);
  if (options.kind === 'header-only') {
    await writeFileAtomic(file, header);
    return header.length;
  }
  const rand = prng(options.seed ?? 1);
  await fsp.mkdir(path.dirname(file), { recursive: true });
  const tmp = tempPathFor(file);
  const fh = await fsp.open(tmp, 'w');
  let size = 0;
  try {
    const write = async (b: Buffer) => {
      await fh.write(b);
      size += b.length;
    };
    await write(header);
    for (const spec of whisperTensorSpecs(h)) {
      const name = Buffer.from(spec.name, 'latin1');
      const hdr = Buffer.alloc(12 + 4 * spec.ne.length);
      let o = hdr.writeInt32LE(spec.ne.length, 0);
      o = hdr.writeInt32LE(name.length, o);
      o = hdr.writeInt32LE(spec.type, o);
      for (const d of spec.ne) o = hdr.writeInt32LE(d, o);
      await write(Buffer.concat([hdr, name]));
      const n = spec.ne.reduce((x, y) => x * y, 1);
      const bytesPer = GGML_TYPE_SIZES[spec.type][1];
      // Write in chunks so realistic (100+ MB) models do not need one huge buffer.
      const chunk = 1 << 20;
      for (let start = 0; start < n; start += chunk) {
        const count = Math.min(chunk, n - start);
        const [blockSize] = GGML_TYPE_SIZES[spec.type];
        const buf = Buffer.alloc((count / blockSize) * bytesPer);
        if (blockSize > 1) {
          // Quantized blocks of 32 weights: an f16 scale (and min for q5_1) and random quants, |w| ≲ 0.1.
          for (let b = 0; b < count / blockSize; b++) {
            const o = b * bytesPer;
            buf.writeUInt16LE(toHalf(spec.type === Q8_0 ? 0.1 / 127 : 0.1 / 16), o);
            let q = o + 2;
            if (spec.type === Q5_1) buf.writeUInt16LE(toHalf(-0.1), (q += 2) - 2);
            for (; q < o + bytesPer; q++) buf[q] = Math.floor(rand() * 256);
          }
        } else {
          for (let i = 0; i < count; i++) {
            const v = spec.init === 'one' ? 1 : spec.init === 'zero' ? 0 : (rand() - 0.5) * 0.2;
            if (spec.type === F32) buf.writeFloatLE(v, i * 4);
            else buf.writeUInt16LE(toHalf(v), i * 2);
          }
        }
        await write(buf);
      }
    }
    await fh.sync();
    await fh.close();
    await fsp.rename(tmp, file);
  } catch (err) {
    await fh.close().catch(() => undefined);
    await fsp.rm(tmp, { force: true });
    throw err;
  }
  return size;
}
