/**
 * A throw-away Nx workspace for end-to-end tests and benchmarks: its own nx.json, sites and data root,
 * sharing this repository's node_modules (symlinked) so the real plugin and libs run, with no install.
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

export interface NxResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout + stderr */
  output: string;
}

export interface TempWorkspaceOptions {
  /** Plugin entry in nx.json (default "@podline/ingest"). */
  plugin?: string | { plugin: string; include?: string[]; options?: unknown };
  /** Copy plugins/ and libs/ sources in, so they are projects of the temp workspace (for affected tests). */
  copySources?: boolean;
  /** Extra environment for every nx call. */
  env?: NodeJS.ProcessEnv;
}

export interface TempWorkspace {
  root: string;
  dataDir: string;
  env: NodeJS.ProcessEnv;
  writeSite(id: string, config: Record<string, unknown>, group?: string): string;
  writeFile(rel: string, content: string): string;
  nx(args: string[], opts?: { env?: NodeJS.ProcessEnv; timeoutMs?: number; onSpawn?: (pid: number) => void; detached?: boolean }): Promise<NxResult>;
  cleanup(): void;
}

export function runProcess(
  cmd: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
  timeoutMs = 300_000,
  onSpawn?: (pid: number) => void,
  detached = false,
): Promise<NxResult> {
  return new Promise((resolve, reject) => {
    // detached: its own process group, so a test can kill the run with every task process (kill(-pid)).
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached });
    if (child.pid && onSpawn) onSpawn(child.pid);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr, output: stdout + stderr });
    });
  });
}

export function createTempWorkspace(options: TempWorkspaceOptions = {}): TempWorkspace {
  const root = mkdtempSync(path.join(tmpdir(), 'podline-ws-'));
  const dataDir = path.join(root, 'data');
  symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(root, 'node_modules'), 'dir');
  const plugin = options.plugin ?? { plugin: '@podline/ingest', include: ['sites/**/site.config.json'] };
  writeFileSync(
    path.join(root, 'nx.json'),
    JSON.stringify(
      {
        analytics: false,
        neverConnectToCloud: true,
        cacheDirectory: '.nx/cache',
        useDaemonProcess: false,
        namedInputs: { default: ['{projectRoot}/**/*'], production: ['default', '!{projectRoot}/**/*.spec.ts'] },
        plugins: [plugin],
      },
      null,
      2,
    ),
  );
  writeFileSync(path.join(root, 'package.json'), JSON.stringify({ name: 'podline-temp-workspace', private: true }));
  writeFileSync(path.join(root, '.gitignore'), 'node_modules\n.nx\ndata\n.podline\n');
  // Path mappings resolve to this repository's sources unless they are copied in.
  const base = JSON.parse(readFileSync(path.join(REPO_ROOT, 'tsconfig.base.json'), 'utf8'));
  if (options.copySources) {
    for (const dir of ['plugins', 'libs']) {
      cpSync(path.join(REPO_ROOT, dir), path.join(root, dir), {
        recursive: true,
        filter: (src) => !src.includes(`${path.sep}node_modules`) && !src.includes(`${path.sep}__snapshots__`),
      });
    }
  } else {
    base.compilerOptions.baseUrl = REPO_ROOT;
  }
  // The TypeScript loader reads this config; give it one file so it finds inputs.
  base.include = ['podline-workspace.d.ts'];
  writeFileSync(path.join(root, 'podline-workspace.d.ts'), 'export {};\n');
  writeFileSync(path.join(root, 'tsconfig.base.json'), JSON.stringify(base, null, 2));
  mkdirSync(path.join(root, 'sites'), { recursive: true });

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NX_DAEMON: 'false',
    NX_NO_CLOUD: 'true',
    NX_TUI: 'false',
    CI: 'true',
    PODLINE_DATA_DIR: dataDir,
    // The plugin's TypeScript is compiled with this workspace's path mappings.
    SWC_NODE_PROJECT: path.join(root, 'tsconfig.base.json'),
    ...options.env,
  };
  // Jest sets these for its workers; they must not leak into the nx processes.
  delete env.JEST_WORKER_ID;
  delete env.NODE_OPTIONS;
  // Nor the variables of an Nx task this test may itself run in (e.g. NX_INVOCATION_ROOT_PID, which makes
  // Nx treat two independent runs of the throw-away workspace as one recursive invocation).
  for (const name of Object.keys(env)) {
    if (name.startsWith('NX_') && !(options.env && name in options.env) && !['NX_DAEMON', 'NX_NO_CLOUD', 'NX_TUI'].includes(name)) delete env[name];
  }

  const ws: TempWorkspace = {
    root,
    dataDir,
    env,
    writeSite(id, config, group) {
      const dir = path.join(root, 'sites', ...(group ? [group] : []), id);
      mkdirSync(dir, { recursive: true });
      const file = path.join(dir, 'site.config.json');
      writeFileSync(file, JSON.stringify({ id, ...config }, null, 2));
      return dir;
    },
    writeFile(rel, content) {
      const file = path.join(root, rel);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, content);
      return file;
    },
    nx(args, opts = {}) {
      return runProcess(process.execPath, [path.join(REPO_ROOT, 'node_modules', 'nx', 'dist', 'bin', 'nx.js'), ...args], root, { ...env, ...opts.env }, opts.timeoutMs, opts.onSpawn, opts.detached);
    },
    cleanup() {
      rmSync(root, { recursive: true, force: true });
    },
  };
  return ws;
}
