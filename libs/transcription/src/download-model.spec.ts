import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, promises as fsp, readdirSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { inspectModelFile } from './index';
import { writeTestModel } from './testing';

/** tools/scripts/download-model.js against a model host on loopback (PODLINE_MODEL_BASE_URL). */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const script = require('../../../tools/scripts/download-model.js') as {
  downloadModel(model: string, opts: Record<string, unknown>): Promise<{ file: string; status: string; bytes: number }>;
  KNOWN_SHA1: Record<string, string>;
  DEFAULT_BASE_URL: string;
};
const SCRIPT_PATH = path.resolve(__dirname, '../../../tools/scripts/download-model.js');

let root: string;
let server: http.Server;
let model: Buffer;
const requests: string[] = [];

beforeAll(async () => {
  root = mkdtempSync(path.join(os.tmpdir(), 'podline-download-'));
  const src = path.join(root, 'src.bin');
  await writeTestModel(src, { kind: 'random', seed: 2 });
  model = await fsp.readFile(src);
  server = http.createServer((req, res) => {
    requests.push(req.url ?? '');
    if (req.url === '/ggml-test.bin' || req.url === '/ggml-base.en.bin') {
      res.writeHead(200, { 'content-length': model.length });
      res.end(model);
    } else if (req.url === '/ggml-html.bin') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>rate limited</html>');
    } else {
      res.writeHead(404, 'Not Found');
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  rmSync(root, { recursive: true, force: true });
});

const sha1 = (b: Buffer) => createHash('sha1').update(b).digest('hex');
function env(dir: string) {
  return { PODLINE_MODEL_BASE_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, PODLINE_MODELS_DIR: dir };
}
const quiet = () => undefined;

describe('download-model', () => {
  it('points at whisper.cpp\'s public host and knows the common models', () => {
    expect(script.DEFAULT_BASE_URL).toBe('https://huggingface.co/ggerganov/whisper.cpp/resolve/main');
    expect(script.KNOWN_SHA1['base.en']).toBe('137c40403d78fd54d454da0f9bd998f78703390c');
    expect(Object.keys(script.KNOWN_SHA1)).toEqual(expect.arrayContaining(['tiny.en', 'small', 'medium.en', 'large-v3']));
    // The quantized variants published next to them (q5/q8), under the names the model check looks for.
    expect(Object.keys(script.KNOWN_SHA1)).toEqual(expect.arrayContaining(['tiny.en-q5_1', 'tiny.en-q8_0', 'base.en-q5_1', 'base.en-q8_0', 'medium.en-q5_0', 'small-q8_0']));
  });

  it('downloads, verifies the checksum and renames into place; a second call does not download', async () => {
    const dir = path.join(root, 'ok');
    const got = await script.downloadModel('test', { sha1: sha1(model), env: env(dir), log: quiet });
    expect(got).toEqual({ file: path.join(dir, 'ggml-test.bin'), status: 'downloaded', bytes: model.length });
    expect((await fsp.readFile(got.file)).equals(model)).toBe(true);
    expect((await inspectModelFile(got.file)).tensors).toBeGreaterThan(0);
    expect(readdirSync(dir)).toEqual(['ggml-test.bin']);
    requests.length = 0;
    expect(await script.downloadModel('test', { sha1: sha1(model), env: env(dir), log: quiet })).toMatchObject({ status: 'present' });
    expect(requests).toEqual([]);
  });

  it('refuses a download whose checksum differs, leaving nothing behind', async () => {
    const dir = path.join(root, 'bad-sum');
    // The loopback host serves our test model under base.en's name: the known sha1 must reject it.
    await expect(script.downloadModel('base.en', { env: env(dir), log: quiet })).rejects.toThrow(
      /ggml-base\.en\.bin: sha1 is [0-9a-f]{40}, expected 137c40403d78fd54d454da0f9bd998f78703390c/,
    );
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses an HTML page and a 404, naming the URL', async () => {
    const dir = path.join(root, 'html');
    await expect(script.downloadModel('html', { sha1: 'a'.repeat(40), env: env(dir), log: quiet })).rejects.toThrow(/ggml-html\.bin is not a ggml model/);
    expect(readdirSync(dir)).toEqual([]);
    await expect(script.downloadModel('nothere', { sha1: 'a'.repeat(40), env: env(dir), log: quiet })).rejects.toThrow(/ggml-nothere\.bin: HTTP 404 Not Found/);
  });

  it('needs a checksum for unknown models and keeps a mismatching file unless forced', async () => {
    await expect(script.downloadModel('mystery', { env: env(path.join(root, 'x')), log: quiet })).rejects.toThrow(/no known checksum for model "mystery".*--sha1=<hex> or --sha256=<hex>/);
    const dir = path.join(root, 'existing');
    await fsp.mkdir(dir, { recursive: true });
    await fsp.writeFile(path.join(dir, 'ggml-test.bin'), 'my own file');
    await expect(script.downloadModel('test', { sha1: sha1(model), env: env(dir), log: quiet })).rejects.toThrow(/exists but its sha1 is not .* --force/);
    expect(await fsp.readFile(path.join(dir, 'ggml-test.bin'), 'utf8')).toBe('my own file');
    const sha256 = createHash('sha256').update(model).digest('hex');
    expect(await script.downloadModel('test', { sha256, force: true, env: env(dir), log: quiet })).toMatchObject({ status: 'downloaded' });
  });

  it('runs as a command, failing with a clear message and exit code', async () => {
    const run = promisify(execFile);
    const dir = path.join(root, 'cli');
    const ok = await run(process.execPath, [SCRIPT_PATH, '--model=test', `--sha1=${sha1(model)}`], { env: { ...process.env, ...env(dir) } });
    expect(ok.stdout).toMatch(/saved .*ggml-test\.bin \(.* MiB, sha1 verified\)/);
    const err = await run(process.execPath, [SCRIPT_PATH, '--model=mystery'], { env: { ...process.env, ...env(dir) } }).catch((e) => e);
    expect(err.code).toBe(1);
    expect(err.stderr).toMatch(/^download-model: no known checksum for model "mystery"/);
  });
});
