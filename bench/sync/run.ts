/**
 * Sync benchmark (on demand, not a test):
 *
 *   npx nx run bench:sync [--repeat=3] [--concurrency=16]
 *
 * Against one local S3-compatible server, in one run: upload of 1,000 × 4 KB files and of 20 × 5 MB files,
 * then a re-sync with nothing changed, by Podline's `upload` (its own process, bundled to JavaScript,
 * start-up included; and the engine's own time inside that process), by
 * `aws s3 sync` and by `rclone copy --transfers 16`. A missing tool is skipped, saying so. Prints the
 * median time of each row and the ratios; writes the figures to bench/results/sync.json.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { startS3Server, S3_TEST_CREDENTIALS } from '@podline/testing/s3-server';
import { benchArgs, numArg, benchHelp } from '../args';

benchHelp('npx nx run bench:sync [--repeat=3] [--concurrency=16] [--multipart-threshold=<MB>] [--baseline=<checkout>]');

const arg = numArg;
const REPEAT = arg('repeat', 3);
const CONCURRENCY = arg('concurrency', 16);
/** Podline's multipartThresholdMB (default: the target's own, 16); e.g. 1 to send the 5 MB files in parts. */
const MULTIPART_THRESHOLD = arg('multipart-threshold', 0) || undefined;
const ROOT = path.resolve(__dirname, '..', '..');
/** Another checkout of this repository (e.g. a worktree of main): its upload runs too, for before/after in one run. */
const BASELINE = benchArgs.baseline ? path.resolve(benchArgs.baseline) : undefined;

type Tool = 'podline' | 'engine' | 'baseline' | 'aws' | 'rclone';
/** The tools that run (the engine's time is read from Podline's own run). */
type Runner = Exclude<Tool, 'engine'>;
interface Dataset {
  name: string;
  siteId: string;
  files: number;
  bytes: number;
  folder: string;
  ext: string;
}
const DATASETS: Dataset[] = [
  { name: '1,000 × 4 KB', siteId: 'small', files: 1000, bytes: 4 * 1024, folder: 'transcripts/show', ext: 'srt' },
  { name: '20 × 5 MB', siteId: 'large', files: 20, bytes: 5 * 1024 * 1024, folder: 'audio/show', ext: 'mp3' },
];

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ ms: number; code: number; out: string }> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, args, { env, cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ ms: Number(process.hrtime.bigint() - t0) / 1e6, code: code ?? 1, out }));
  });
}

function available(cmd: string, args: string[]): string | undefined {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return r.status === 0 ? (r.stdout || r.stderr).split('\n')[0].trim() : undefined;
}

async function countObjects(client: S3Client, bucket: string): Promise<number> {
  let n = 0;
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    n += (page.Contents ?? []).filter((o) => !o.Key!.startsWith('.cache/')).length;
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return n;
}

/**
 * Bundle the upload script and the libs it uses into one JavaScript file in <workspace>/tmp (inside, so the
 * npm packages it leaves out resolve from node_modules), as the Lambda bundle is made: esbuild, with the
 * workspace's path mappings.
 */
function compilePodline(checkout = ROOT, name = 'bench-sync-js'): string {
  const outDir = path.join(ROOT, 'tmp', name);
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const outfile = path.join(outDir, 'podline-upload.js');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const esbuild = require('esbuild') as typeof import('esbuild');
  esbuild.buildSync({
    entryPoints: [path.join(checkout, 'bench', 'sync', 'podline-upload.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    tsconfig: path.join(checkout, 'tsconfig.base.json'),
    // npm packages stay in node_modules; the workspace's own libs (@podline/*, through the path mappings) are bundled.
    external: ['@aws-sdk/*', '@smithy/*', 'better-sqlite3', 'ajv'],
    logLevel: 'warning',
  });
  return outfile;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const work = mkdtempSync(path.join(os.tmpdir(), 'podline-bench-sync-'));
  const server = await startS3Server();
  const client = server.client();
  try {
    const dataDir = path.join(work, 'data');
    for (const d of DATASETS) {
      const dir = path.join(dataDir, d.siteId, ...d.folder.split('/'));
      mkdirSync(dir, { recursive: true });
      for (let i = 0; i < d.files; i++) writeFileSync(path.join(dir, `${String(i).padStart(4, '0')}.${d.ext}`), randomBytes(d.bytes));
    }

    // Tool set-up: the same endpoint, credentials, path-style addressing, checksums only when required.
    const awsConfig = path.join(work, 'aws-config');
    writeFileSync(awsConfig, '[default]\nregion = us-east-1\nrequest_checksum_calculation = when_required\nresponse_checksum_validation = when_required\ns3 =\n  addressing_style = path\n');
    const rcloneConfig = path.join(work, 'rclone.conf');
    writeFileSync(
      rcloneConfig,
      `[bench]\ntype = s3\nprovider = Other\naccess_key_id = ${S3_TEST_CREDENTIALS.accessKeyId}\nsecret_access_key = ${S3_TEST_CREDENTIALS.secretAccessKey}\nendpoint = ${server.endpoint}\nforce_path_style = true\nregion = us-east-1\n`,
    );
    const baseEnv: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: work, LANG: 'C.UTF-8' };
    const awsEnv = { ...baseEnv, AWS_ACCESS_KEY_ID: S3_TEST_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: S3_TEST_CREDENTIALS.secretAccessKey, AWS_CONFIG_FILE: awsConfig, AWS_SHARED_CREDENTIALS_FILE: path.join(work, 'none') };

    // Podline runs as compiled JavaScript, as a deployed tool would: compiling TypeScript on load (swc)
    // would add a fixed cost no other tool pays. The engine's own time is reported separately anyway.
    const compiled = compilePodline();
    const baseline = BASELINE ? compilePodline(BASELINE, 'bench-sync-baseline-js') : undefined;
    const versions: Partial<Record<Runner, string>> = { podline: `node ${process.version}`, ...(BASELINE && { baseline: BASELINE }) };
    const awsVersion = available('aws', ['--version']);
    const rcloneVersion = available('rclone', ['version']);
    const tools: Runner[] = ['podline', ...(baseline ? (['baseline'] as const) : [])];
    if (awsVersion) (tools.push('aws'), (versions.aws = awsVersion));
    else console.log('aws: not installed (the awscli package), its column is skipped');
    if (rcloneVersion) (tools.push('rclone'), (versions.rclone = rcloneVersion));
    else console.log('rclone: not installed (the rclone package), its column is skipped');

    const sync = async (tool: Runner, d: Dataset, bucket: string) => {
      const src = path.join(dataDir, d.siteId);
      switch (tool) {
        case 'podline':
        case 'baseline':
          return run(
            process.execPath,
            [tool === 'podline' ? compiled : baseline!, JSON.stringify({ workspaceRoot: work, dataDir, siteId: d.siteId, bucket, endpoint: server.endpoint, concurrency: CONCURRENCY, multipartThresholdMB: MULTIPART_THRESHOLD })],
            baseEnv,
          );
        case 'aws':
          return run('aws', ['s3', 'sync', src, `s3://${bucket}/`, '--endpoint-url', server.endpoint, '--exclude', '.cache/*', '--only-show-errors'], awsEnv);
        case 'rclone':
          return run('rclone', ['copy', src, `bench:${bucket}`, '--transfers', '16', '--config', rcloneConfig, '--exclude', '.cache/**'], baseEnv);
      }
    };

    const rows: Array<{ row: string; times: Partial<Record<Tool, number[]>> }> = [];
    const row = (name: string) => {
      let r = rows.find((x) => x.row === name);
      if (!r) rows.push((r = { row: name, times: {} }));
      return r;
    };
    const noopRequests: number[] = [];
    let bucketN = 0;
    for (let rep = 0; rep < REPEAT; rep++) {
      for (const d of DATASETS) {
        // Rotate the order each repetition so no tool always goes first.
        const order = tools.map((_, i) => tools[(i + rep) % tools.length]);
        for (const tool of order) {
          const bucket = `bench-${tool}-${d.siteId}-${++bucketN}`;
          await server.createBucket(bucket);
          const first = await sync(tool, d, bucket);
          if (first.code !== 0) throw new Error(`${tool} upload of ${d.name} failed:\n${first.out}`);
          const objects = await countObjects(client, bucket);
          if (objects !== d.files) throw new Error(`${tool} uploaded ${objects} of ${d.files} files of ${d.name}`);
          const again = await sync(tool, d, bucket);
          if (again.code !== 0) throw new Error(`${tool} re-sync of ${d.name} failed:\n${again.out}`);
          (row(`upload ${d.name}`).times[tool] ??= []).push(first.ms);
          (row(`re-sync ${d.name}, nothing changed`).times[tool] ??= []).push(again.ms);
          if (tool === 'podline') {
            const report = (r: { out: string }) => JSON.parse(r.out.trim().split('\n').pop()!) as { counts: Record<string, number>; engineMs: number };
            const firstReport = report(first);
            const againReport = report(again);
            if (againReport.counts.uploaded !== 0) throw new Error(`podline re-sync uploaded ${againReport.counts.uploaded} files`);
            if (d.files === 1000) noopRequests.push(againReport.counts.requests);
            (row(`upload ${d.name}`).times.engine ??= []).push(firstReport.engineMs);
            (row(`re-sync ${d.name}, nothing changed`).times.engine ??= []).push(againReport.engineMs);
          }
        }
      }
    }

    const fmt = (ms: number | undefined) => (ms === undefined ? '-' : `${(ms / 1000).toFixed(2)} s`);
    // "podline" is the whole process (Node start-up, module and SDK load); "engine" is the same run's time
    // inside uploadSite, as when the executor runs inside Nx's task runner.
    const columns: Tool[] = ['podline', 'engine', ...tools.filter((t) => t !== 'podline')];
    const others = tools.filter((t) => t !== 'podline');
    const references = others.filter((t) => t !== 'baseline');
    const names: Record<Tool, string> = {
      podline: `podline process (c=${CONCURRENCY})`,
      engine: 'podline engine',
      baseline: 'baseline process',
      aws: 'aws s3 sync',
      rclone: 'rclone --transfers 16',
    };
    // The goal: Podline's whole process (start-up included) faster than every reference tool on every row.
    const header = ['row', ...columns.map((t) => names[t]), ...others.map((t) => `${t}/podline`), 'goal: faster than ' + (references.join(' and ') || 'the references')];
    const table = rows.map((r) => {
      const med = Object.fromEntries(columns.map((t) => [t, median(r.times[t] ?? [])])) as Record<Tool, number>;
      const slowest = references.length ? Math.min(...references.map((t) => med[t] / med.podline)) : undefined;
      return [
        r.row,
        ...columns.map((t) => fmt(med[t])),
        ...others.map((t) => `${(med[t] / med.podline).toFixed(2)}×`),
        slowest === undefined ? 'no reference installed' : slowest >= 1 ? `met (${slowest.toFixed(2)}×)` : `NOT met (${slowest.toFixed(2)}×)`,
      ];
    });
    const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i].length)));
    const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ');
    console.log(`\nmedian of ${REPEAT} runs each; one S3-compatible server on 127.0.0.1; ${os.cpus().length} cores, load average ${os.loadavg()[0].toFixed(1)}`);
    console.log('ratios > 1× mean the other tool took longer than Podline (its whole process, start-up included)');
    for (const [t, v] of Object.entries(versions)) console.log(`  ${t}: ${v}`);
    console.log('\n' + line(header));
    console.log(line(widths.map((w) => '-'.repeat(w))));
    for (const r of table) console.log(line(r));
    console.log(`\npodline no-op re-sync of 1,000 keys: ${noopRequests.join(', ')} request(s) per run (one LIST page, nothing else)`);

    const resultsDir = path.join(ROOT, 'bench', 'results');
    mkdirSync(resultsDir, { recursive: true });
    writeFileSync(path.join(resultsDir, 'sync.json'), JSON.stringify({ repeat: REPEAT, concurrency: CONCURRENCY, multipartThresholdMB: MULTIPART_THRESHOLD, versions, rows, noopRequests }, null, 2) + '\n');
  } finally {
    await server.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
