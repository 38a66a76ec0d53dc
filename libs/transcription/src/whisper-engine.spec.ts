import { mkdtempSync, promises as fsp, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decodePcmWindows } from '@podline/media';
import { makeTone } from '@podline/media/testing';
import { EngineError, ModelError, transcribeAudio, whisperEngine, whisperParams, type EngineSettings } from './index';
import { writeTestModel } from './testing/ggml-writer';

let root: string;
const settings = (model: string): EngineSettings => ({ workspaceRoot: root, model, language: 'en', threads: 2, beamSize: 1 });

beforeAll(async () => {
  root = mkdtempSync(path.join(os.tmpdir(), 'podline-whisper-'));
  await writeTestModel(path.join(root, 'models', 'ggml-header.bin'), { kind: 'header-only' });
  await writeTestModel(path.join(root, 'models', 'ggml-random.bin'), { kind: 'random', seed: 3 });
  await makeTone(path.join(root, 'tone.mp3'), 7, 440);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function firstWindow(file: string): Promise<Float32Array> {
  for await (const w of decodePcmWindows(file)) return w.samples.slice();
  throw new Error('no audio');
}

describe('whisper engine (smart-whisper in a child process)', () => {
  it('is greedy by default and beam search only when asked', () => {
    expect(whisperParams(settings('x'))).toMatchObject({ strategy: 0, beam_size: 1, n_threads: 2, language: 'en' });
    expect(whisperParams({ ...settings('x'), beamSize: 5, prompt: 'Podline' })).toMatchObject({ strategy: 1, beam_size: 5, initial_prompt: 'Podline' });
    expect(whisperParams(settings('x'))).toMatchObject({ temperature_inc: 0.2, entropy_thold: 2.4, logprob_thold: -1, no_context: true, suppress_blank: true, suppress_non_speech_tokens: true });
    expect(whisperParams({ ...settings('x'), noFallback: true })).toMatchObject({ temperature_inc: 0 });
  });

  it('loads a header-only model and yields no segments', async () => {
    const session = await whisperEngine.open(settings('models/ggml-header.bin'));
    try {
      expect(await session.transcribe(await firstWindow(path.join(root, 'tone.mp3')))).toEqual([]);
    } finally {
      await session.close();
    }
  });

  it('runs a random-weights model over windows with continuous, in-window timestamps', async () => {
    const session = await whisperEngine.open({ ...settings('random'), prompt: 'Podline test' });
    try {
      const progress: Array<[number, boolean]> = [];
      const result = await transcribeAudio(path.join(root, 'tone.mp3'), session, {
        windowSeconds: 3,
        onProgress: (p) => progress.push([p.doneSeconds, p.windowDone]),
      });
      // Within-window reports from the engine, and one at each window's end; never going back.
      expect(progress.filter(([, done]) => done).map(([s]) => s)).toEqual([3, 6, expect.closeTo(7, 1)]);
      expect(progress.some(([, done]) => !done)).toBe(true);
      const seconds = progress.map(([s]) => s);
      expect([...seconds].sort((a, b) => a - b)).toEqual(seconds);
      expect(result.durationSeconds).toBeCloseTo(7, 1);
      // Garbage text is expected from random weights; the times must still be sane.
      for (const s of result.segments) {
        expect(s.endMs).toBeGreaterThanOrEqual(s.startMs);
        expect(s.endMs).toBeLessThanOrEqual(7000);
      }
      // Every segment lies inside one 3 s window, offset by that window's start.
      for (const s of result.segments) {
        const k = Math.floor(s.startMs / 3000);
        expect(s.endMs).toBeLessThanOrEqual(Math.min(7000, (k + 1) * 3000));
      }
      const starts = result.segments.map((s) => s.startMs);
      expect([...starts].sort((a, b) => a - b)).toEqual(starts);
      expect(result.segments.length).toBeGreaterThan(0);
      expect(result.segments.some((s) => s.startMs >= 3000)).toBe(true);
    } finally {
      await session.close();
    }
  });

  it('refuses a missing model before starting any native code', async () => {
    await expect(whisperEngine.open(settings('base.en'))).rejects.toThrow(ModelError);
  });

  it('survives a native crash: the episode fails, this process carries on', async () => {
    // Structurally valid, but a tensor name whisper.cpp does not know: its loader crashes the process.
    const good = await fsp.readFile(path.join(root, 'models', 'ggml-random.bin'));
    const at = good.indexOf('encoder.conv1.weight');
    const bad = Buffer.from(good);
    bad.write('X', at, 'latin1');
    await fsp.writeFile(path.join(root, 'models', 'ggml-crash.bin'), bad);
    const err = await whisperEngine.open(settings('crash')).catch((e) => e);
    expect(err).toBeInstanceOf(EngineError);
    expect(err.message).toMatch(/^could not load Whisper model .*ggml-crash\.bin: the whisper engine process died \((signal SIG\w+|exit code \d+)\)/);
    // And the engine still works afterwards.
    const session = await whisperEngine.open(settings('header'));
    await session.close();
  });
});
