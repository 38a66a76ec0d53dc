import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkModel, inspectModelFile, whisperEngine } from './index';
import { QUANTIZED_FTYPE, TINY_TEST_HPARAMS, writeTestModel } from './testing';

/** Quantized models (q8_0, q5_0, q5_1) in whisper.cpp's format: the model check accepts them and whisper.cpp runs them. */
let root: string;
beforeAll(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'podline-quantized-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe.each(Object.entries(QUANTIZED_FTYPE))('a %s model', (name, ftype) => {
  it('passes the model check and transcribes', async () => {
    const file = path.join(root, 'models', `ggml-test-${name}.bin`);
    const size = await writeTestModel(file, { kind: 'random', seed: 2, hparams: { ...TINY_TEST_HPARAMS, ftype } });
    const f16 = path.join(root, 'models', 'ggml-test-f16.bin');
    const f16Size = await writeTestModel(f16, { kind: 'random', seed: 2 });
    expect(size).toBeLessThan(f16Size); // smaller than the f16 model of the same shape
    const inspection = await inspectModelFile(file);
    expect(inspection.hparams.ftype).toBe(ftype);
    expect((await checkModel(root, `test-${name}`)).file).toBe(file);
    const session = await whisperEngine.open({ workspaceRoot: root, model: `test-${name}`, language: 'en', threads: 2, beamSize: 1, noFallback: true });
    try {
      // One second of a 440 Hz tone: a real forward pass through the quantized weights.
      const pcm = Float32Array.from({ length: 16000 }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 440 * i) / 16000));
      const segments = await session.transcribe(pcm);
      for (const s of segments) expect(s.endMs).toBeGreaterThanOrEqual(s.startMs);
    } finally {
      await session.close();
    }
  });
});
