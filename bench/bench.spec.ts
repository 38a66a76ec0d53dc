import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

/**
 * Every benchmark is a target of this project, run the same way (`npx nx run bench:<name>`). Each one must
 * at least start: its target's own command with `--help` loads the benchmark and its libs (a broken import
 * or path mapping fails here) and prints its usage. The figures themselves are never asserted.
 */
const ROOT = path.resolve(__dirname, '..');
const project = JSON.parse(readFileSync(path.join(__dirname, 'project.json'), 'utf8')) as {
  targets: Record<string, { executor?: string; options?: { command?: string } }>;
};
const benchmarks = Object.entries(project.targets).filter(([, t]) => t.executor === 'nx:run-commands');

function run(command: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, { shell: true, cwd: ROOT, env: { ...process.env, SWC_NODE_PROJECT: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}

describe('benchmarks', () => {
  it('are all bench targets: one per folder with a run.ts', () => {
    const folders = ['index', 'pipeline', 'queue', 'rss', 'searchpage', 'sync', 'transcribe'];
    expect(benchmarks.map(([name]) => name).sort()).toEqual(folders);
    for (const [name, t] of benchmarks) expect(t.options?.command).toBe(`node tools/scripts/run-ts.js bench/${name}/run.ts`);
  });

  for (const [name, target] of benchmarks) {
    it(`bench:${name} starts (--help)`, async () => {
      const { code, out } = await run(`${target.options!.command} --help`);
      expect({ code, out }).toEqual({ code: 0, out: expect.stringContaining(`usage: npx nx run bench:${name}`) });
    });
  }
});
