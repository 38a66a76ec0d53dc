import { mkdtempSync, promises as fsp, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkModel, downloadCommand, inspectModelFile, ModelError, ModelFormatError, modelFile } from './index';
import { TINY_TEST_HPARAMS, whisperTensorSpecs, writeTestModel } from './testing/ggml-writer';

let root: string;
beforeAll(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'podline-ggml-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('test model writer and model inspection', () => {
  it('writes a header-only model that inspects as hparams with no tensors', async () => {
    const file = path.join(root, 'models', 'ggml-header.bin');
    const size = await writeTestModel(file, { kind: 'header-only' });
    const head = await fsp.readFile(file);
    expect(head.subarray(0, 4).toString('latin1')).toBe('lmgg');
    const info = await inspectModelFile(file);
    expect(info).toEqual({ hparams: TINY_TEST_HPARAMS, tensors: 0, size });
  });

  it('writes a random-weights model with every tensor whisper.cpp expects', async () => {
    const file = path.join(root, 'models', 'ggml-random.bin');
    const size = await writeTestModel(file, { kind: 'random', seed: 7 });
    const info = await inspectModelFile(file);
    // 7 encoder-level + 4 decoder-level + 15 per encoder block + 24 per decoder block.
    expect(info.tensors).toBe(7 + 4 + 15 + 24);
    expect(whisperTensorSpecs(TINY_TEST_HPARAMS)).toHaveLength(info.tensors);
    expect(info.size).toBe(size);
    // Deterministic: the same seed gives the same bytes.
    const again = path.join(root, 'again.bin');
    await writeTestModel(again, { kind: 'random', seed: 7 });
    expect((await fsp.readFile(again)).equals(await fsp.readFile(file))).toBe(true);
  });

  it('rejects a truncated model, naming where it ends', async () => {
    const file = path.join(root, 'models', 'ggml-random.bin');
    const cut = path.join(root, 'cut.bin');
    const data = await fsp.readFile(file);
    await fsp.writeFile(cut, data.subarray(0, data.length - 1000));
    await expect(inspectModelFile(cut)).rejects.toThrow(ModelFormatError);
    await expect(inspectModelFile(cut)).rejects.toThrow(/truncated at byte \d+ while skipping tensor decoder\.blocks\.0\.\S+ data/);
  });

  it('rejects a file that is not a ggml model, and a tiny one', async () => {
    const html = path.join(root, 'page.bin');
    await fsp.writeFile(html, '<!doctype html><html>rate limited</html>');
    await expect(inspectModelFile(html)).rejects.toThrow(/not a whisper.cpp ggml model \(magic 0x6f64213c, expected 0x67676d6c\)/);
    const tiny = path.join(root, 'tiny.bin');
    await fsp.writeFile(tiny, 'lm');
    await expect(inspectModelFile(tiny)).rejects.toThrow(/too small/);
  });
});

describe('checkModel', () => {
  it('resolves names into the models folder and paths against the workspace', () => {
    expect(modelFile(root, 'base.en', {})).toBe(path.join(root, 'models', 'ggml-base.en.bin'));
    expect(modelFile(root, 'base.en', { PODLINE_MODELS_DIR: 'elsewhere' })).toBe(path.join(root, 'elsewhere', 'ggml-base.en.bin'));
    expect(modelFile(root, 'my/model.bin', {})).toBe(path.join(root, 'my', 'model.bin'));
  });

  it('says which model is missing, where, and the command that fetches it', async () => {
    const err = await checkModel(root, 'small.en', {}).catch((e) => e);
    expect(err).toBeInstanceOf(ModelError);
    expect(err.message).toBe(`Whisper model "small.en" is missing: expected ${path.join(root, 'models', 'ggml-small.en.bin')}`);
    expect(err.fix).toBe('run npx nx run tools:download-model --model=small.en');
    expect(downloadCommand('small.en')).toBe('npx nx run tools:download-model --model=small.en');
  });

  it('says a corrupt model is unusable and how to replace it', async () => {
    await fsp.writeFile(path.join(root, 'models', 'ggml-base.en.bin'), Buffer.alloc(5000, 1));
    const err = await checkModel(root, 'base.en', {}).catch((e) => e);
    expect(err).toBeInstanceOf(ModelError);
    expect(err.message).toMatch(/^Whisper model "base.en" at .*ggml-base.en.bin is not a usable whisper.cpp model: not a whisper.cpp ggml model/);
    expect(err.fix).toBe('delete it and run npx nx run tools:download-model --model=base.en');
  });

  it('accepts a good model', async () => {
    const { file, inspection } = await checkModel(root, 'random', {});
    expect(file).toBe(path.join(root, 'models', 'ggml-random.bin'));
    expect(inspection.tensors).toBeGreaterThan(0);
  });
});
