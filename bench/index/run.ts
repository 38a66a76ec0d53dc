/**
 * Index benchmark (run on demand, never in tests):
 *
 *   npx nx run bench:index [--episodes=1000] [--minutes=60] [--queries=200] [--orama-episodes=N] [--keep]
 *
 * Generates `episodes` synthetic transcripts of `minutes` each, then measures, each in its own child process:
 *   1. full build (SRT -> entry files -> SQLite FTS5 index), peak RSS, index size;
 *   2. incremental rebuild after one new episode;
 *   3. query latency p50/p95 over the query set, peak RSS while querying;
 *   4. the same entries in @orama/orama (all in memory): build, p50/p95, peak RSS (over `orama-episodes`).
 * Prints one table with the goals and the ratios. Everything lives in a temp folder removed at the end.
 */
import { fork } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { keys, SitePaths, stableStringify, type EpisodeRecord } from '@podline/config';
import { Corpus, episodeSrt, queries as makeQueries } from './synthetic';
import { benchArgs, benchHelp } from '../args';

benchHelp('npx nx run bench:index [--episodes=1000] [--minutes=60] [--queries=200] [--orama-episodes=N] [--keep]');

const args = benchArgs;
const EPISODES = Number(args.episodes ?? 1000);
const MINUTES = Number(args.minutes ?? 60);
const QUERIES = Number(args.queries ?? 200);
const ORAMA_EPISODES = Number(args['orama-episodes'] ?? EPISODES);
const SITE = 'bench';

type Result = Record<string, number> & { counts?: Record<string, number> };

function child(job: Record<string, unknown>, heapMb?: number): Promise<Result> {
  return new Promise((resolve, reject) => {
    const execArgv = ['-r', '@swc-node/register', ...(heapMb ? [`--max-old-space-size=${heapMb}`] : [])];
    const proc = fork(path.join(__dirname, 'child.ts'), [], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let answer: { ok: boolean; result?: Result; error?: string } | undefined;
    proc.send(job);
    proc.once('message', (m) => (answer = m as typeof answer));
    proc.once('exit', (code, signal) => {
      if (answer?.ok) resolve(answer.result!);
      else reject(new Error(answer?.error ?? `child ${String(job.mode)} exited with ${code ?? signal}`));
    });
  });
}

const episode = (i: number): EpisodeRecord => {
  const fileKey = `2020-01-01_episode-${String(i).padStart(5, '0')}_${i.toString(16).padStart(6, '0')}`;
  return { id: `bench-guid-${i}`, idSource: 'guid', podcast: `show-${i % 10}`, fileKey, title: `Episode ${i}`, published: new Date(Date.UTC(2020, 0, 1) + i * 86_400_000).toISOString(), status: 'downloaded' };
};

function writeManifest(paths: SitePaths, count: number): void {
  mkdirSync(path.dirname(paths.manifestFile), { recursive: true });
  writeFileSync(paths.manifestFile, stableStringify({ version: 1, site: SITE, episodes: Array.from({ length: count }, (_, i) => episode(i)) }));
}

function writeSrt(paths: SitePaths, corpus: Corpus, i: number): number {
  const ep = episode(i);
  const text = episodeSrt(corpus, 1000 + i, MINUTES * 60);
  const file = paths.transcriptFile(ep.podcast, ep.fileKey);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  return text.length;
}

const f = (n: number | undefined, d = 1) => (n === undefined || Number.isNaN(n) ? 'n/a' : n.toFixed(d));
const ratio = (a?: number, b?: number) => (a && b ? `${(b / a).toFixed(1)}×` : 'n/a');

async function main() {
  const root = mkdtempSync(path.join(tmpdir(), 'podline-bench-index-'));
  const paths = new SitePaths(SITE, root, {});
  try {
    console.log(`generating ${EPISODES} episodes × ${MINUTES} min of synthetic transcripts in ${root}…`);
    const corpus = new Corpus();
    let bytes = 0;
    const g0 = Date.now();
    for (let i = 0; i < EPISODES; i++) bytes += writeSrt(paths, corpus, i);
    writeManifest(paths, EPISODES);
    console.log(`  ${(bytes / 1048576).toFixed(1)} MB of SRT in ${((Date.now() - g0) / 1000).toFixed(1)} s`);
    const qs = makeQueries(corpus, episodeSrt(corpus, 1000, 600), QUERIES);
    const job = { root, siteId: SITE, queries: qs };

    const idle = await child({ ...job, mode: 'idle' });
    console.log('full build (SQLite FTS5)…');
    const full = await child({ ...job, mode: 'sqlite-build' });
    console.log(`  ${f(full.ms / 1000)} s, peak RSS ${f(full.peakRssMb, 0)} MB`);
    const indexMb = statSync(paths.file(keys.searchIndex())).size / 1048576;
    console.log('incremental build after one new episode…');
    writeSrt(paths, corpus, EPISODES);
    writeManifest(paths, EPISODES + 1);
    const incr = await child({ ...job, mode: 'sqlite-build' });
    console.log(`  ${f(incr.ms / 1000, 2)} s, peak RSS ${f(incr.peakRssMb, 0)} MB`);
    console.log(`${qs.length} queries (SQLite FTS5)…`);
    const query = await child({ ...job, mode: 'sqlite-query' });
    console.log(`  p50 ${f(query.p50, 2)} ms, p95 ${f(query.p95, 2)} ms, peak RSS ${f(query.peakRssMb, 0)} MB`);
    let orama: Result | undefined;
    let oramaError: string | undefined;
    if (ORAMA_EPISODES > 0) {
      console.log(`Orama, ${ORAMA_EPISODES} episodes, all in memory…`);
      try {
        orama = await child({ ...job, mode: 'orama', episodes: ORAMA_EPISODES }, 16_384);
      } catch (err) {
        oramaError = (err as Error).message.split('\n')[0];
      }
    } else oramaError = 'skipped (--orama-episodes=0)';

    const rows: Array<[string, string, string, string, string]> = [
      ['', 'SQLite FTS5 (podline)', `Orama in memory${orama && orama.episodes < EPISODES ? ` (${orama.episodes} eps)` : ''}`, 'goal', 'Orama / SQLite'],
      ['entries indexed', String(full.entries), String(orama?.entries ?? 'n/a'), '', ''],
      ['full build (s)', f(full.ms / 1000), f(orama && orama.ms / 1000), '≤ 60', ratio(full.ms, orama?.ms)],
      ['  of which reading entry files (s)', '—', f(orama && orama.loadMs / 1000), '', ''],
      ['incremental, +1 episode (s)', f(incr.ms / 1000, 2), 'n/a (rebuild)', '≤ 2', ''],
      ['peak RSS, build (MB)', f(full.peakRssMb, 0), f(orama?.peakRssMb, 0), '≤ 500', ratio(full.peakRssMb, orama?.peakRssMb)],
      ['peak RSS, incremental (MB)', f(incr.peakRssMb, 0), '', '≤ 500', ''],
      ['peak RSS, queries (MB)', f(query.peakRssMb, 0), f(orama?.peakRssMb, 0), '≤ 500', ratio(query.peakRssMb, orama?.peakRssMb)],
      ['index size (MB)', f(indexMb), `heap ${f(orama?.heapMb, 0)}`, '', ''],
      [`query p50 (ms, ${qs.length} q)`, f(query.p50, 2), f(orama?.p50, 2), '', ratio(query.p50, orama?.p50)],
      [`query p95 (ms, ${qs.length} q)`, f(query.p95, 2), f(orama?.p95, 2), '≤ 50', ratio(query.p95, orama?.p95)],
      ['hits returned (sum)', String(query.hits), String(orama?.hits ?? 'n/a'), '', ''],
    ];
    const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
    console.log(`\n${EPISODES} episodes × ${MINUTES} min, ${(bytes / 1048576).toFixed(0)} MB SRT; idle Node child peak RSS ${f(idle.peakRssMb, 0)} MB`);
    for (const r of rows) console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '));
    if (ORAMA_EPISODES <= 0) console.log(`\nOrama ${oramaError}`);
    else if (oramaError) console.log(`\nOrama failed: ${oramaError} (rerun with --orama-episodes=<fewer>)`);
    console.log(`\nincremental counts: ${JSON.stringify(incr.counts)}`);
    const out = path.join(__dirname, '..', 'results');
    mkdirSync(out, { recursive: true });
    writeFileSync(path.join(out, `index-${EPISODES}x${MINUTES}.json`), JSON.stringify({ episodes: EPISODES, minutes: MINUTES, srtMb: bytes / 1048576, idle, full, incr, query, indexMb, orama, oramaError }, null, 2));
  } finally {
    if (args.keep) console.log(`kept ${root}`);
    else rmSync(root, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
