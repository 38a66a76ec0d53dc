import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

/* eslint-disable @typescript-eslint/no-require-imports */
const compiled = require('../compiled.js') as {
  load(phase: string): Promise<{ default: unknown; batch: unknown }>;
  freshBundle(file: string, esbuildVersion: string): boolean;
  build(esbuild: unknown, phase: string, file: string): Promise<string>;
};
const esbuild = require('esbuild') as { version: string };

describe('compiled executors (pre-sync, check, rss)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'podline-compiled-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const header = (file: string) => JSON.parse(readFileSync(file, 'utf8').split('\n', 1)[0].replace('// podline-inputs: ', '')) as { esbuild: string; root: string; inputs: Record<string, string> };
  const rewriteHeader = (file: string, edit: (h: ReturnType<typeof header>) => void) => {
    const [first, ...rest] = readFileSync(file, 'utf8').split('\n');
    const h = JSON.parse(first.replace('// podline-inputs: ', ''));
    edit(h);
    writeFileSync(file, [`// podline-inputs: ${JSON.stringify(h)}`, ...rest].join('\n'));
  };

  it('a bundle records every source it was built from, and is fresh while they are unchanged', async () => {
    const file = await compiled.build(esbuild, 'check', path.join(dir, 'check.js'));
    const { inputs } = header(file);
    expect(Object.keys(inputs)).toEqual(
      expect.arrayContaining(['plugins/ingest/src/executors/check/executor.ts', 'plugins/ingest/src/executors/common.ts', 'libs/storage/src/sync.ts', 'libs/config/src/load.ts', 'tsconfig.base.json']),
    );
    expect(compiled.freshBundle(file, esbuild.version)).toBe(true);
  });

  it('a bundle is stale when any source changed, esbuild changed, or its record is missing or damaged', async () => {
    const file = await compiled.build(esbuild, 'check', path.join(dir, 'stale.js'));
    expect(compiled.freshBundle(file, `${esbuild.version}-other`)).toBe(false);
    rewriteHeader(file, (h) => (h.root = path.join(dir, 'elsewhere')));
    expect(compiled.freshBundle(file, esbuild.version)).toBe(false);
    await compiled.build(esbuild, 'check', file);
    rewriteHeader(file, (h) => (h.inputs['libs/storage/src/sync.ts'] = '0'.repeat(40)));
    expect(compiled.freshBundle(file, esbuild.version)).toBe(false);
    await compiled.build(esbuild, 'check', file);
    rewriteHeader(file, (h) => (h.inputs['libs/storage/src/gone.ts'] = '0'.repeat(40)));
    expect(compiled.freshBundle(file, esbuild.version)).toBe(false);
    writeFileSync(file, 'module.exports = {};\n');
    expect(compiled.freshBundle(file, esbuild.version)).toBe(false);
    expect(compiled.freshBundle(path.join(dir, 'missing.js'), esbuild.version)).toBe(false);
  });

  it('sources that read files next to themselves still find them (schema.json of each phase)', async () => {
    const file = await compiled.build(esbuild, 'rss', path.join(dir, 'rss.js'));
    const text = readFileSync(file, 'utf8');
    expect(text).not.toMatch(/\b__dirname\b/);
    expect(text).toContain(JSON.stringify(path.resolve(__dirname, 'executors')));
  });

  it('loads each outward phase as an executor and a batch implementation', async () => {
    for (const phase of ['pre-sync', 'check', 'rss']) {
      const mod = await compiled.load(phase);
      expect(typeof mod.default).toBe('function');
      expect(typeof mod.batch).toBe('function');
    }
  });
});
