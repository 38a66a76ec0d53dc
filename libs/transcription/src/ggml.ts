import { promises as fsp } from 'node:fs';
import { PodlineError } from '@podline/config';

/**
 * whisper.cpp's legacy ggml model format (what `ggml-<model>.bin` files are), as read by
 * whisper_model_load() in whisper.cpp/src/whisper.cpp:
 *   u32 magic 'ggml' (0x67676d6c, little-endian: bytes "lmgg")
 *   11 × i32 hparams (below)
 *   i32 n_mel, i32 n_fft, n_mel·n_fft × f32 mel filters
 *   i32 n_tokens, then per token: u32 length + bytes
 *   tensors until EOF: i32 n_dims, i32 name length, i32 type, n_dims × i32 ne, name, data
 * All little-endian.
 */
export const GGML_MAGIC = 0x67676d6c;

export interface WhisperHparams {
  n_vocab: number;
  n_audio_ctx: number;
  n_audio_state: number;
  n_audio_head: number;
  n_audio_layer: number;
  n_text_ctx: number;
  n_text_state: number;
  n_text_head: number;
  n_text_layer: number;
  n_mels: number;
  /** ggml_ftype (0 f32, 1 f16, 2 q4_0, 3 q4_1, 7 q8_0, 8 q5_0, 9 q5_1), plus 1000 × quantisation version. */
  ftype: number;
}

export const HPARAM_NAMES: Array<keyof WhisperHparams> = [
  'n_vocab',
  'n_audio_ctx',
  'n_audio_state',
  'n_audio_head',
  'n_audio_layer',
  'n_text_ctx',
  'n_text_state',
  'n_text_head',
  'n_text_layer',
  'n_mels',
  'ftype',
];

/** ggml_type → [block size in elements, bytes per block] (the types whisper models use). */
export const GGML_TYPE_SIZES: Record<number, [number, number]> = {
  0: [1, 4], // F32
  1: [1, 2], // F16
  2: [32, 18], // Q4_0
  3: [32, 20], // Q4_1
  6: [32, 22], // Q5_0
  7: [32, 24], // Q5_1
  8: [32, 34], // Q8_0
};

export interface ModelInspection {
  hparams: WhisperHparams;
  /** Tensors found; 0 means a header-only model (whisper.cpp loads it "for testing"). */
  tensors: number;
  size: number;
}

/** Why a file is not a usable whisper.cpp model. */
export class ModelFormatError extends PodlineError {}

/** Reads whole records at explicit offsets; a short read means the file is truncated. */
class Reader {
  constructor(
    private fh: fsp.FileHandle,
    readonly size: number,
    public pos = 0,
  ) {}
  async bytes(n: number, what: string): Promise<Buffer> {
    if (n < 0 || this.pos + n > this.size) {
      throw new ModelFormatError(`truncated at byte ${this.pos} while reading ${what} (file has ${this.size} bytes)`);
    }
    const buf = Buffer.alloc(n);
    await this.fh.read(buf, 0, n, this.pos);
    this.pos += n;
    return buf;
  }
  async i32s(n: number, what: string): Promise<number[]> {
    const b = await this.bytes(4 * n, what);
    return Array.from({ length: n }, (_, i) => b.readInt32LE(4 * i));
  }
  skip(n: number, what: string): void {
    if (n < 0 || this.pos + n > this.size) {
      throw new ModelFormatError(`truncated at byte ${this.pos} while skipping ${what} (needs ${n} bytes, file has ${this.size})`);
    }
    this.pos += n;
  }
}

/**
 * Walk a model file's structure without loading it: magic, hparams, mel filters, vocab and every
 * tensor header, checking each tensor's data fits and the file ends exactly after the last one.
 * Catches the wrong file, a truncated download and garbage before the native loader (which aborts
 * the process on such input) ever sees it.
 */
export async function inspectModelFile(file: string): Promise<ModelInspection> {
  const fh = await fsp.open(file, 'r');
  try {
    const { size } = await fh.stat();
    const r = new Reader(fh, size);
    if (size < 4) throw new ModelFormatError(`file is ${size} bytes, too small to be a model`);
    const magic = (await r.bytes(4, 'magic')).readUInt32LE(0);
    if (magic !== GGML_MAGIC) {
      throw new ModelFormatError(`not a whisper.cpp ggml model (magic 0x${magic.toString(16).padStart(8, '0')}, expected 0x${GGML_MAGIC.toString(16)})`);
    }
    const values = await r.i32s(HPARAM_NAMES.length, 'hparams');
    const hparams = Object.fromEntries(HPARAM_NAMES.map((k, i) => [k, values[i]])) as unknown as WhisperHparams;
    for (const k of HPARAM_NAMES) {
      if (k !== 'ftype' && (hparams[k] <= 0 || hparams[k] > 1 << 20) && !(k.endsWith('_layer') && hparams[k] === 0)) {
        throw new ModelFormatError(`implausible hparam ${k} = ${hparams[k]}`);
      }
    }
    if (hparams.n_audio_state !== hparams.n_text_state) {
      throw new ModelFormatError(`n_audio_state ${hparams.n_audio_state} differs from n_text_state ${hparams.n_text_state}`);
    }
    if (![0, 1, 2, 3, 7, 8, 9].includes(hparams.ftype % 1000)) throw new ModelFormatError(`unknown ftype ${hparams.ftype}`);
    const [nMel, nFft] = await r.i32s(2, 'mel filter header');
    if (nMel <= 0 || nFft <= 0 || nMel * nFft > 1 << 24) throw new ModelFormatError(`implausible mel filters ${nMel}×${nFft}`);
    r.skip(4 * nMel * nFft, 'mel filters');
    const [nTokens] = await r.i32s(1, 'vocab size');
    if (nTokens < 0 || nTokens > hparams.n_vocab) throw new ModelFormatError(`vocab of ${nTokens} tokens exceeds n_vocab ${hparams.n_vocab}`);
    for (let i = 0; i < nTokens; i++) {
      const [len] = await r.i32s(1, `token ${i}`);
      r.skip(len, `token ${i}`);
    }
    let tensors = 0;
    while (r.pos < size) {
      const [nDims, nameLen, type] = await r.i32s(3, `tensor ${tensors} header`);
      if (nDims < 1 || nDims > 4 || nameLen <= 0 || nameLen > 256) {
        throw new ModelFormatError(`tensor ${tensors} has a corrupt header (dims ${nDims}, name length ${nameLen})`);
      }
      const ne = await r.i32s(nDims, `tensor ${tensors} shape`);
      const name = (await r.bytes(nameLen, `tensor ${tensors} name`)).toString('latin1');
      const typeSize = GGML_TYPE_SIZES[type];
      if (!typeSize) throw new ModelFormatError(`tensor ${name} has unknown type ${type}`);
      const elements = ne.reduce((a, b) => a * b, 1);
      if (ne.some((d) => d <= 0) || elements % typeSize[0] !== 0) throw new ModelFormatError(`tensor ${name} has an invalid shape [${ne}]`);
      r.skip((elements / typeSize[0]) * typeSize[1], `tensor ${name} data`);
      tensors++;
    }
    return { hparams, tensors, size };
  } finally {
    await fh.close();
  }
}
