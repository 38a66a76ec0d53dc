/**
 * Pipeline benchmark (run on demand, not in tests):
 *
 *   npx nx run bench:pipeline [--sites=20,200,1000] [--first-sites=50] [--repeat=3] [--baseline=<checkout>]
 *
 * 1. For each site count N: `nx run-many -t index` over N sites with nothing new (feeds answer 304, buckets
 *    unchanged), against the same graph backed by executors that do nothing (Nx's own floor), both measured
 *    in the same run, their repetitions interleaved with the order rotated. Goals: ≤ 1.5× the floor at 20
 *    sites, ≤ 1.2× at 200, ≤ 1.3× at 1,000.
 * 2. The first run of M sites × 6 targets with trivial work (empty feeds), batched. Goal ≤ 15 s.
 *
 * --baseline=<dir>: another checkout of this repository (e.g. a worktree of main): its plugin and libs run the
 * same no-op rows in the same run, for a before/after comparison on a busy machine.
 */
import { cpSync, existsSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createTempWorkspace, REPO_ROOT, type TempWorkspace } from '@podline/testing/temp-workspace';
import { startFeedServer, type FeedServer } from '@podline/testing/http-feed-server';
import { benchArgs, numArg, benchHelp } from '../args';

benchHelp('npx nx run bench:pipeline [--sites=20,200,1000] [--first-sites=50] [--repeat=3] [--baseline=<checkout>]');

const SITES = (benchArgs.sites ?? '20,200,1000').split(',').map(Number).filter((n) => n > 0);
const FIRST_SITES = numArg('first-sites', 50);
const REPEAT = numArg('repeat', 3);
const BASELINE = benchArgs.baseline ? path.resolve(benchArgs.baseline) : undefined;
/** The no-op goal (ratio to the floor) at a site count: the issue's goals, the nearest one at or below N. */
function goalFor(n: number): number {
  if (n >= 1000) return 1.3;
  if (n >= 200) return 1.2;
  return 1.5;
}

function feedXml(title: string, items: number): string {
  const entries = Array.from({ length: items }, (_, i) => `
    <item><title>Episode ${i + 1}</title><guid>${title}-${i + 1}</guid>
      <pubDate>Mon, 0${(i % 9) + 1} Nov 2026 08:00:00 GMT</pubDate></item>`).join('');
  return `<?xml version="1.0"?><rss version="2.0"><channel><title>${title}</title><link>https://example.com</link><description>d</description>${entries}</channel></rss>`;
}

function addSites(ws: TempWorkspace, server: FeedServer, n: number, items: number) {
  for (let i = 0; i < n; i++) {
    const id = `site-${String(i).padStart(4, '0')}`;
    server.route(`/${id}.xml`, { body: feedXml(id, items), contentType: 'application/rss+xml', etag: true });
    ws.writeSite(id, { title: id, podcasts: [{ id: 'show', title: 'Show', feedUrl: server.url(`/${id}.xml`) }], network: { allowPrivateAddresses: true } });
  }
}

/**
 * CPU seconds (user + system) of this process's finished children and theirs (Linux: /proc/self/stat); on a
 * busy shared machine the CPU a run used varies much less than its wall time. undefined elsewhere.
 */
function childCpuSeconds(): number | undefined {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').replace(/^.*\) /, '').split(' ');
    // After the command name: state is field 3, so cutime (16) and cstime (17) are at 13 and 14 here.
    return (Number(fields[13]) + Number(fields[14])) / 100;
  } catch {
    return undefined;
  }
}

const cpuOf = new Map<TempWorkspace, number[]>();

async function timed(ws: TempWorkspace, label: string): Promise<number> {
  const t = process.hrtime.bigint();
  const cpu0 = childCpuSeconds();
  const res = await ws.nx(['run-many', '-t', 'index', '--outputStyle=static'], { timeoutMs: 900_000 });
  const s = Number(process.hrtime.bigint() - t) / 1e9;
  const cpu1 = childCpuSeconds();
  const cpu = cpu0 === undefined || cpu1 === undefined ? undefined : cpu1 - cpu0;
  if (cpu !== undefined) {
    if (!cpuOf.has(ws)) cpuOf.set(ws, []);
    cpuOf.get(ws)!.push(cpu);
  }
  if (res.code !== 0) {
    process.stderr.write(res.output.slice(-4000));
    throw new Error(`${label}: nx exited ${res.code}`);
  }
  const cached = (res.output.match(/\[local cache\]|\[existing outputs match the cache, left as is\]/g) ?? []).length;
  process.stdout.write(`  ${label}: ${s.toFixed(2)} s${cpu === undefined ? '' : `, ${cpu.toFixed(2)} s of CPU`} (${cached} cache hits)\n`);
  return s;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** A workspace whose graph is the pipeline's, backed by executors that do nothing: Nx's own floor. */
function floorWorkspace(): TempWorkspace {
  const floor = createTempWorkspace({ plugin: { plugin: './floor/plugin.js', include: ['sites/*/site.config.json'] } });
  cpSync(path.join(REPO_ROOT, 'bench', 'pipeline', 'floor'), path.join(floor.root, 'floor'), { recursive: true });
  // A project of the throw-away workspace only (not of this repository), so Nx resolves its executors.
  floor.writeFile('floor/project.json', JSON.stringify({ name: 'podline-floor', root: 'floor', targets: {} }));
  // Nx finds a local plugin's executors through the workspace's path mappings.
  const tsconfig = JSON.parse(readFileSync(path.join(floor.root, 'tsconfig.base.json'), 'utf8'));
  tsconfig.compilerOptions.paths['podline-floor'] = ['floor/plugin.js'];
  floor.writeFile('tsconfig.base.json', JSON.stringify(tsconfig, null, 2));
  return floor;
}

/** A workspace running another checkout's plugin and libs (its node_modules and path mappings point there). */
function baselineWorkspace(checkout: string): TempWorkspace {
  const ws = createTempWorkspace();
  rmSync(path.join(ws.root, 'node_modules'));
  symlinkSync(path.join(checkout, 'node_modules'), path.join(ws.root, 'node_modules'), 'dir');
  const tsconfig = JSON.parse(readFileSync(path.join(ws.root, 'tsconfig.base.json'), 'utf8'));
  tsconfig.compilerOptions.baseUrl = checkout;
  ws.writeFile('tsconfig.base.json', JSON.stringify(tsconfig, null, 2));
  return ws;
}

type Kind = 'podline' | 'baseline' | 'floor';

async function main() {
  if (BASELINE && !existsSync(path.join(BASELINE, 'node_modules', '@podline', 'ingest', 'package.json'))) {
    throw new Error(`--baseline=${BASELINE}: not a checkout of this repository with its node_modules installed (no node_modules/@podline/ingest)`);
  }
  const server = await startFeedServer();
  const rows: Array<[string, string, string, string]> = [];
  const started = Date.now();
  try {
    // 1. Nothing new: Podline vs the floor (and the baseline checkout), at each site count.
    for (const n of SITES) {
      process.stdout.write(`no-op run, ${n} sites:\n`);
      const kinds: Kind[] = ['podline', ...(BASELINE ? (['baseline'] as const) : []), 'floor'];
      const ws: Partial<Record<Kind, TempWorkspace>> = {};
      const times: Record<Kind, number[]> = { podline: [], baseline: [], floor: [] };
      const feedRequests: number[] = [];
      const notModified: number[] = [];
      try {
        for (const kind of kinds) {
          const w = (ws[kind] = kind === 'floor' ? floorWorkspace() : kind === 'baseline' ? baselineWorkspace(BASELINE!) : createTempWorkspace());
          addSites(w, server, n, 3);
          await timed(w, `${kind} first run`);
          // The second run settles what the first one wrote (upload's and index's states), so later runs are no-ops.
          if (kind !== 'floor') await timed(w, `${kind} second run (settles)`);
        }
        for (let i = 0; i < REPEAT; i++) {
          // Rotate the order each repetition so neither always runs first.
          const order = kinds.map((_, k) => kinds[(k + i) % kinds.length]);
          for (const kind of order) {
            server.resetRequests();
            times[kind].push(await timed(ws[kind]!, `${kind} no-op run ${i + 1}`));
            if (kind === 'podline') {
              feedRequests.push(server.count());
              notModified.push(server.requests.filter((r) => r.status === 304).length);
            }
          }
        }
      } finally {
        for (const w of Object.values(ws)) w?.cleanup();
      }
      const o = median(times.podline);
      const f = median(times.floor);
      // CPU of the no-op runs only (the first entries are the first and settling runs).
      const cpu = (k: Kind) => {
        const xs = (cpuOf.get(ws[k]!) ?? []).slice(k === 'floor' ? 1 : 2);
        return xs.length ? median(xs) : undefined;
      };
      const goal = goalFor(n);
      const ratio = o / f;
      rows.push([`no-op run, ${n} sites (median of ${REPEAT})`, `${o.toFixed(2)} s`, `floor ${f.toFixed(2)} s`, `${ratio.toFixed(2)}× (goal ≤ ${goal}×: ${ratio <= goal ? 'met' : 'NOT met'})`]);
      const [oc, fc] = [cpu('podline'), cpu('floor')];
      if (oc !== undefined && fc !== undefined) rows.push([`  CPU of a no-op run (all processes)`, `${oc.toFixed(2)} s`, `floor ${fc.toFixed(2)} s`, `${(oc / fc).toFixed(2)}×`]);
      if (BASELINE) {
        const b = median(times.baseline);
        rows.push([`  the same, baseline checkout`, `${b.toFixed(2)} s`, `floor ${f.toFixed(2)} s`, `${(b / f).toFixed(2)}× (now ${(b / o).toFixed(2)}× faster)`]);
        const bc = cpu('baseline');
        if (bc !== undefined && oc !== undefined) rows.push([`  CPU, baseline checkout`, `${bc.toFixed(2)} s`, `floor ${fc!.toFixed(2)} s`, `${(bc / fc!).toFixed(2)}× (now ${(bc / oc).toFixed(2)}× less)`]);
      }
      const perFeed = median(feedRequests) / n;
      rows.push([`  feed requests per no-op run`, `${median(feedRequests)}`, `${median(notModified)} answered 304`, `${perFeed.toFixed(2)} per feed (goal 1)`]);
    }

    // 2. First run, trivial work, batched.
    if (FIRST_SITES > 0) {
      process.stdout.write(`first run, ${FIRST_SITES} sites × 6 targets:\n`);
      const first = createTempWorkspace();
      try {
        addSites(first, server, FIRST_SITES, 0);
        const firstTime = await timed(first, 'podline first run');
        const report = JSON.parse(readFileSync(path.join(first.dataDir, '.reports', 'latest.json'), 'utf8'));
        rows.push([`first run, ${FIRST_SITES} sites × 6 targets (batched)`, `${firstTime.toFixed(2)} s`, `${report.rows.length} tasks`, `goal ≤ 15 s: ${firstTime <= 15 ? 'met' : 'NOT met'}`]);
      } finally {
        first.cleanup();
      }
    }
  } finally {
    await server.close();
  }
  const header: [string, string, string, string] = ['row', 'podline', 'reference', 'ratio / goal'];
  const all = [header, rows[0] && header.map((h) => '-'.repeat(h.length)) as typeof header, ...rows].filter(Boolean);
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  process.stdout.write(
    `\n${os.cpus().length} cores, load average ${os.loadavg()[0].toFixed(1)}, ${((Date.now() - started) / 1000).toFixed(0)} s in all; ratios > goal mean slower than the goal allows\n` +
      all.map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()).join('\n') +
      '\n',
  );
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
