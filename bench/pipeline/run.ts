/**
 * Pipeline benchmark (run on demand, not in tests):
 *
 *   npx nx run bench:pipeline [--sites=20] [--first-sites=50] [--repeat=3]
 *
 * 1. `nx run-many -t index` over N sites with nothing new (feeds answer 304, buckets unchanged), against the
 *    same graph backed by executors that do nothing (Nx's own floor), measured in the same run. Goal ≤ 1.5×.
 * 2. The first run of M sites × 6 targets with trivial work (empty feeds), batched. Goal ≤ 15 s.
 */
import { cpSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { createTempWorkspace, REPO_ROOT, type TempWorkspace } from '@podline/testing/temp-workspace';
import { startFeedServer, type FeedServer } from '@podline/testing/http-feed-server';
import { numArg, benchHelp } from '../args';

benchHelp('npx nx run bench:pipeline [--sites=20] [--first-sites=50] [--repeat=3]');

const arg = numArg;
const SITES = arg('sites', 20);
const FIRST_SITES = arg('first-sites', 50);
const REPEAT = arg('repeat', 3);

function feedXml(title: string, items: number): string {
  const entries = Array.from({ length: items }, (_, i) => `
    <item><title>Episode ${i + 1}</title><guid>${title}-${i + 1}</guid>
      <pubDate>Mon, 0${(i % 9) + 1} Nov 2026 08:00:00 GMT</pubDate></item>`).join('');
  return `<?xml version="1.0"?><rss version="2.0"><channel><title>${title}</title><link>https://example.com</link><description>d</description>${entries}</channel></rss>`;
}

function addSites(ws: TempWorkspace, server: FeedServer, n: number, items: number) {
  for (let i = 0; i < n; i++) {
    const id = `site-${String(i).padStart(2, '0')}`;
    server.route(`/${id}.xml`, { body: feedXml(id, items), contentType: 'application/rss+xml', etag: true });
    ws.writeSite(id, { title: id, podcasts: [{ id: 'show', title: 'Show', feedUrl: server.url(`/${id}.xml`) }], network: { allowPrivateAddresses: true } });
  }
}

async function timed(ws: TempWorkspace, label: string): Promise<number> {
  const t = process.hrtime.bigint();
  const res = await ws.nx(['run-many', '-t', 'index', '--outputStyle=static']);
  const s = Number(process.hrtime.bigint() - t) / 1e9;
  if (res.code !== 0) {
    process.stderr.write(res.output.slice(-4000));
    throw new Error(`${label}: nx exited ${res.code}`);
  }
  const cached = (res.output.match(/\[local cache\]|\[existing outputs match the cache, left as is\]/g) ?? []).length;
  process.stdout.write(`  ${label}: ${s.toFixed(2)} s (${cached} cache hits)\n`);
  return s;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function main() {
  const server = await startFeedServer();
  const rows: Array<[string, string, string]> = [];
  try {
    // 1. Nothing new: Podline vs the floor.
    process.stdout.write(`no-op run, ${SITES} sites:\n`);
    const podline = createTempWorkspace();
    addSites(podline, server, SITES, 3);
    await timed(podline, 'podline first run');
    await timed(podline, 'podline second run (settles)');
    server.resetRequests();
    const ours: number[] = [];
    for (let i = 0; i < REPEAT; i++) ours.push(await timed(podline, `podline no-op run ${i + 1}`));
    const feedRequests = server.count() / REPEAT;
    const notModified = server.requests.filter((r) => r.status === 304).length / REPEAT;

    const floor = createTempWorkspace({ plugin: { plugin: './floor/plugin.js', include: ['sites/*/site.config.json'] } });
    cpSync(path.join(REPO_ROOT, 'bench', 'pipeline', 'floor'), path.join(floor.root, 'floor'), { recursive: true });
    // A project of the throw-away workspace only (not of this repository), so Nx resolves its executors.
    floor.writeFile('floor/project.json', JSON.stringify({ name: 'podline-floor', root: 'floor', targets: {} }));
    // Nx finds a local plugin's executors through the workspace's path mappings.
    const tsconfig = JSON.parse(readFileSync(path.join(floor.root, 'tsconfig.base.json'), 'utf8'));
    tsconfig.compilerOptions.paths['podline-floor'] = ['floor/plugin.js'];
    floor.writeFile('tsconfig.base.json', JSON.stringify(tsconfig, null, 2));
    addSites(floor, server, SITES, 3);
    await timed(floor, 'floor first run');
    const floorTimes: number[] = [];
    for (let i = 0; i < REPEAT; i++) floorTimes.push(await timed(floor, `floor no-op run ${i + 1}`));

    const o = median(ours);
    const f = median(floorTimes);
    rows.push([`no-op run, ${SITES} sites (median of ${REPEAT})`, `${o.toFixed(2)} s vs floor ${f.toFixed(2)} s`, `${(o / f).toFixed(2)}× (goal ≤ 1.5×)`]);
    rows.push([`feed requests per no-op run`, `${feedRequests} (${notModified} answered 304)`, `${(feedRequests / SITES).toFixed(2)} per feed (goal 1)`]);
    podline.cleanup();
    floor.cleanup();

    // 2. First run, trivial work, batched.
    process.stdout.write(`first run, ${FIRST_SITES} sites × 6 targets:\n`);
    const first = createTempWorkspace();
    addSites(first, server, FIRST_SITES, 0);
    const firstTime = await timed(first, 'podline first run');
    const report = JSON.parse(readFileSync(path.join(first.dataDir, '.reports', 'latest.json'), 'utf8'));
    rows.push([`first run, ${FIRST_SITES} sites × 6 targets (batched)`, `${firstTime.toFixed(2)} s, ${report.rows.length} tasks`, 'goal ≤ 15 s']);
    first.cleanup();
  } finally {
    await server.close();
  }
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  process.stdout.write('\n' + rows.map((r) => `${r[0].padEnd(w0)}  ${r[1].padEnd(w1)}  ${r[2]}`).join('\n') + '\n');
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
