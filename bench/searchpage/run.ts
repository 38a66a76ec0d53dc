/// <reference lib="dom" />
/**
 * Search page benchmark (run on demand, never in tests):
 *
 *   npx nx run bench:searchpage [--quick] [--episodes=1000] [--minutes=60] [--per-kind=8] [--rank-cap=40] [--keep]
 *
 * Builds the synthetic site of bench/index (same corpus), its FTS index and its search page, serves the
 * page on loopback with range support, and queries it in headless Chromium through the page's own form:
 *   - first load, in two steps: the first screen (the page, its script, site.json) and opening the index
 *     (its header and the roots of its tables), which the page starts when the search box is used;
 *   - cold query: a fresh browser context per query (nothing cached), bytes/requests/time of that query;
 *   - warm query: the same query again in the same page;
 * by kind (common word, rare word, phrase, prefix). Bytes and requests are counted by the server: every
 * byte it writes for a request (status line, headers, body as sent: the script is stored brotli-compressed
 * and sent so, as S3 + CloudFront send them).
 * The floor: the page's own search code in Node on the local file (warm: no network), and the CLI's search
 * (better-sqlite3, FTS5) on the FTS index. Prints one table with the goals.
 */
import Database from 'better-sqlite3';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { launchChromium } from '@podline/testing/browser';
import { keys, SitePaths, stableStringify, type EpisodeRecord } from '@podline/config';
import { buildSiteIndex, searchIndex } from '@podline/search-index';
import { fileReadAt, publishSearchPage, searchWebIndex, startStaticServer, WebIndex, WEB_FOLDER } from '@podline/web';
import { Corpus, episodeSrt, rng } from '../index/synthetic';
import { benchArgs, benchHelp, numArg } from '../args';

benchHelp('npx nx run bench:searchpage [--quick] [--episodes=1000] [--minutes=60] [--per-kind=8] [--rank-cap=40] [--keep]\n  --quick: 40 episodes × 20 min, 3 queries per kind (about a minute; sizes given explicitly win)');

const QUICK = benchArgs.quick !== undefined;
const EPISODES = numArg('episodes', QUICK ? 40 : 1000);
const MINUTES = numArg('minutes', QUICK ? 20 : 60);
const PER_KIND = numArg('per-kind', QUICK ? 3 : 8);
const RANK_CAP = benchArgs['rank-cap'] === undefined ? undefined : Number(benchArgs['rank-cap']);
const SITE = 'bench';
type Kind = 'common word' | 'rare word' | 'phrase' | 'prefix';
const KINDS: Kind[] = ['common word', 'rare word', 'phrase', 'prefix'];

const since = (t: bigint) => Number(process.hrtime.bigint() - t) / 1e6;
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] : NaN;
};
const kb = (b: number) => (b / 1024).toFixed(0);
const mb = (b: number) => (b / 1048576).toFixed(2);
const ms = (x: number) => x.toFixed(x < 10 ? 1 : 0);

const episode = (i: number): EpisodeRecord => {
  const fileKey = `2020-01-01_episode-${String(i).padStart(5, '0')}_${i.toString(16).padStart(6, '0')}`;
  return { id: `bench-guid-${i}`, idSource: 'guid', podcast: `show-${i % 10}`, fileKey, title: `Episode ${i}`, published: new Date(Date.UTC(2020, 0, 1) + i * 86_400_000).toISOString(), status: 'downloaded' };
};

function makeQueries(corpus: Corpus): Array<{ kind: Kind; q: string }> {
  const rand = rng(11);
  const tokens = (episodeSrt(corpus, 1000, 600).toLowerCase().match(/[\p{L}]+/gu) ?? []).filter((t) => t.length > 1);
  const out: Array<{ kind: Kind; q: string }> = [];
  for (let i = 0; i < PER_KIND; i++) {
    out.push({ kind: 'common word', q: corpus.words[Math.floor(rand() * 40)] });
    out.push({ kind: 'rare word', q: corpus.words[3000 + Math.floor(rand() * 12000)] });
    const at = Math.floor(rand() * (tokens.length - 1));
    out.push({ kind: 'phrase', q: `"${tokens[at]} ${tokens[at + 1]}"` });
    const w = corpus.words[50 + Math.floor(rand() * 3000)];
    out.push({ kind: 'prefix', q: `${w.slice(0, Math.max(4, w.length - 2))}*` });
  }
  return out;
}

interface Counter {
  bytes: number;
  requests: number;
}

/** What a first load's requests were, by file kind (the breakdown printed under the table). */
function kindOf(p: string): string {
  if (/\/assets\/app-/.test(p)) return 'page script (brotli)';
  if (/\/index-[0-9a-f]{16}\.sqlite$/.test(p)) return 'index: header and table roots';
  if (p.endsWith('site.json')) return 'site.json';
  return 'index.html';
}

/**
 * Submit a query through the page's form; its time as the page measures it (from the submit to the results
 * rendered: `data-search-ms`), and as seen from here (adds puppeteer's round trips and its polling, one
 * animation frame or more).
 */
async function submit(page: Page, q: string): Promise<{ ms: number; outside: number }> {
  const before = Number((await page.evaluate(() => document.body.dataset.searched)) ?? 0);
  const t = process.hrtime.bigint();
  await page.evaluate((query) => {
    (document.getElementById('q') as HTMLInputElement).value = query;
    (document.getElementById('search') as HTMLFormElement).requestSubmit();
  }, q);
  await page.waitForFunction((n) => Number(document.body.dataset.searched ?? 0) > n, { timeout: 300_000 }, before);
  const outside = since(t);
  const status = await page.$eval('#status', (e) => e.textContent ?? '');
  if (/failed|could not/i.test(status)) throw new Error(`query ${q}: ${status}`);
  return { ms: Number(await page.evaluate(() => document.body.dataset.searchMs)), outside };
}

async function main() {
  const root = mkdtempSync(path.join(tmpdir(), 'podline-bench-searchpage-'));
  const paths = new SitePaths(SITE, root, {});
  let browser: Browser | undefined;
  const server = { stop: async () => {} };
  try {
    console.log(`generating ${EPISODES} episodes × ${MINUTES} min…`);
    const corpus = new Corpus();
    for (let i = 0; i < EPISODES; i++) {
      const ep = episode(i);
      const file = paths.transcriptFile(ep.podcast, ep.fileKey);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, episodeSrt(corpus, 1000 + i, MINUTES * 60));
    }
    mkdirSync(path.dirname(paths.manifestFile), { recursive: true });
    writeFileSync(paths.manifestFile, stableStringify({ version: 1, site: SITE, episodes: Array.from({ length: EPISODES }, (_, i) => episode(i)) }));
    console.log('building the FTS index…');
    const built = await buildSiteIndex({ siteId: SITE, paths });
    const ftsFile = paths.file(keys.searchIndex());
    console.log('building the search page and its web index…');
    const t0 = process.hrtime.bigint();
    const page0 = await publishSearchPage({
      site: { id: SITE, title: 'Bench', podcasts: Array.from({ length: 10 }, (_, i) => ({ id: `show-${i}`, title: `Show ${i}` })) },
      sourceIndex: ftsFile,
      sourceDigest: built.state!.index.digest,
      webDir: paths.file(WEB_FOLDER),
      index: RANK_CAP === undefined ? undefined : { rankCap: RANK_CAP },
    });
    const webBuildMs = since(t0);
    const idx = page0.siteJson.index;
    const webFile = path.join(paths.file(WEB_FOLDER), idx.file);
    console.log(`  ${idx.entries} entries, web index ${mb(idx.bytes)} MB (FTS index ${mb(require('node:fs').statSync(ftsFile).size)} MB), built in ${(webBuildMs / 1000).toFixed(1)} s`);

    const count: Counter = { bytes: 0, requests: 0 };
    let requestLog: Array<{ path: string; wire: number }> = [];
    const srv = await startStaticServer({
      root: paths.root,
      onRequest: (r) => {
        count.requests++;
        count.bytes += r.wire;
        requestLog.push({ path: r.path, wire: r.wire });
      },
    });
    server.stop = srv.close;
    const url = `${srv.url}${WEB_FOLDER}/`;
    const reset = () => Object.assign(count, { bytes: 0, requests: 0 });
    browser = await launchChromium();
    type Load = Counter & { ms: number };
    const fresh = async (): Promise<{ page: Page; screen: Load; open: Load; log: typeof requestLog; close: () => Promise<void> }> => {
      const ctx = await browser!.createBrowserContext();
      const page = await ctx.newPage();
      page.setDefaultTimeout(300_000);
      reset();
      requestLog = [];
      let t = process.hrtime.bigint();
      await page.goto(url);
      await page.waitForSelector('body[data-ready="true"]');
      const screen = { ...count, ms: since(t) };
      reset();
      t = process.hrtime.bigint();
      await page.focus('#q'); // the page opens the index when the search box is used
      await page.waitForSelector('body[data-open="true"]');
      const open = { ...count, ms: since(t) };
      // Responses still being written when the page saw the index open are counted once they end.
      await new Promise((r) => setTimeout(r, 50));
      return { page, screen, open, log: requestLog, close: () => ctx.close() };
    };

    const qs = makeQueries(corpus);
    const loads: Array<{ screen: Load; open: Load }> = [];
    let breakdown: typeof requestLog = [];
    const cold: Record<Kind, Array<Counter & { ms: number; outside: number }>> = { 'common word': [], 'rare word': [], phrase: [], prefix: [] };
    const warm: Record<Kind, number[]> = { 'common word': [], 'rare word': [], phrase: [], prefix: [] };
    const warmOutside: Record<Kind, number[]> = { 'common word': [], 'rare word': [], phrase: [], prefix: [] };
    let done = 0;
    for (const { kind, q } of qs) {
      const { page, screen, open, log, close } = await fresh();
      loads.push({ screen, open });
      if (!breakdown.length) breakdown = [...log];
      reset();
      const t = await submit(page, q);
      cold[kind].push({ ...count, ms: t.ms, outside: t.outside });
      const w = await submit(page, q);
      warm[kind].push(w.ms);
      warmOutside[kind].push(w.outside);
      await close();
      process.stdout.write(`\r  ${++done}/${qs.length} queries in the browser`);
    }
    process.stdout.write('\n');

    // The floor: the page's own search in Node on the local file (no network, warm), and the CLI's search on the FTS index.
    const local = fileReadAt(webFile);
    const webIndex = await WebIndex.open(local.readAt, local.bytes);
    const fts = new Database(ftsFile, { readonly: true });
    const floor: Record<Kind, number[]> = { 'common word': [], 'rare word': [], phrase: [], prefix: [] };
    const cli: Record<Kind, number[]> = { 'common word': [], 'rare word': [], phrase: [], prefix: [] };
    for (const { kind, q } of qs) {
      await searchWebIndex(webIndex, q, { rankCap: idx.rankCap, limit: idx.limit }); // page cache warm, as the browser's warm run
      let t = process.hrtime.bigint();
      await searchWebIndex(webIndex, q, { rankCap: idx.rankCap, limit: idx.limit });
      floor[kind].push(since(t));
      searchIndex(fts, q, 20);
      t = process.hrtime.bigint();
      searchIndex(fts, q, 20);
      cli[kind].push(since(t));
    }
    local.close();
    fts.close();

    const rows: string[][] = [['', 'cold MB p50', 'cold MB p95', 'req p50', 'cold ms p50', 'cold ms p95', 'warm ms p50', 'floor ms p50', 'CLI ms p50', 'cold/floor']];
    const all = Object.values(cold).flat();
    const allFloor = Object.values(floor).flat();
    for (const kind of KINDS) {
      const c = cold[kind];
      rows.push([
        kind,
        mb(pct(c.map((x) => x.bytes), 50)),
        mb(pct(c.map((x) => x.bytes), 95)),
        String(pct(c.map((x) => x.requests), 50)),
        ms(pct(c.map((x) => x.ms), 50)),
        ms(pct(c.map((x) => x.ms), 95)),
        ms(pct(warm[kind], 50)),
        ms(pct(floor[kind], 50)),
        ms(pct(cli[kind], 50)),
        `${(pct(c.map((x) => x.ms), 50) / pct(floor[kind], 50)).toFixed(0)}×`,
      ]);
    }
    rows.push([
      'all',
      mb(pct(all.map((x) => x.bytes), 50)),
      mb(pct(all.map((x) => x.bytes), 95)),
      String(pct(all.map((x) => x.requests), 50)),
      ms(pct(all.map((x) => x.ms), 50)),
      ms(pct(all.map((x) => x.ms), 95)),
      ms(pct(Object.values(warm).flat(), 50)),
      ms(pct(allFloor, 50)),
      ms(pct(Object.values(cli).flat(), 50)),
      `${(pct(all.map((x) => x.ms), 50) / pct(allFloor, 50)).toFixed(0)}×`,
    ]);
    rows.push(['goal', '≤ 1', '≤ 3', '', '≤ 400', '', '≤ 20', '', '', '']);
    const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
    console.log(`\n${EPISODES} episodes × ${MINUTES} min, ${idx.entries} entries; web index ${mb(idx.bytes)} MB (rank cap ${idx.rankCap}); ${qs.length} queries (${PER_KIND} per kind), headless Chromium over loopback`);
    for (const r of rows) console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '));
    console.log(
      `(times as the page measures them, from the submit to the results on screen; seen from puppeteer, which adds its own round trips and polling: ` +
        `cold p50 ${ms(pct(all.map((x) => x.outside), 50))} ms, warm p50 ${ms(pct(Object.values(warmOutside).flat(), 50))} ms)`,
    );
    const firstLoad = loads.map((l) => l.screen.bytes + l.open.bytes);
    const firstLoadMs = loads.map((l) => l.screen.ms + l.open.ms);
    const fl: string[][] = [
      ['first load (transferred)', 'KB p50', 'requests', 'ms p50', 'goal'],
      ['first screen: page, script, site.json', kb(pct(loads.map((l) => l.screen.bytes), 50)), String(pct(loads.map((l) => l.screen.requests), 50)), ms(pct(loads.map((l) => l.screen.ms), 50)), ''],
      ['opening the index: header, table roots', kb(pct(loads.map((l) => l.open.bytes), 50)), String(pct(loads.map((l) => l.open.requests), 50)), ms(pct(loads.map((l) => l.open.ms), 50)), ''],
      ['page + open', kb(pct(firstLoad, 50)), String(pct(loads.map((l) => l.screen.requests + l.open.requests), 50)), ms(pct(firstLoadMs, 50)), `≤ 300 KB ${pct(firstLoad, 50) <= 300 * 1024 ? 'met' : 'NOT met'}`],
    ];
    const flw = fl[0].map((_, c) => Math.max(...fl.map((r) => r[c].length)));
    console.log('');
    for (const r of fl) console.log(r.map((c, i) => (i === 0 ? c.padEnd(flw[i]) : c.padStart(flw[i]))).join('  '));
    const byKind = new Map<string, { wire: number; n: number }>();
    for (const r of breakdown) {
      const k = byKind.get(kindOf(r.path)) ?? { wire: 0, n: 0 };
      byKind.set(kindOf(r.path), { wire: k.wire + r.wire, n: k.n + 1 });
    }
    console.log(`\nfirst load by file (one fresh context; bytes on the wire, headers included):`);
    for (const [k, v] of [...byKind].sort((a, b) => b[1].wire - a[1].wire)) console.log(`  ${k.padEnd(28)} ${kb(v.wire).padStart(6)} KB  ${v.n} request(s)`);
    console.log(`  (index.html and site.json are counted uncompressed: CloudFront gzips them, ~2 KB less. No wasm, no worker: the page reads the index's SQLite b-trees itself.)`);
    const out = path.join(__dirname, '..', 'results');
    mkdirSync(out, { recursive: true });
    writeFileSync(path.join(out, `searchpage-${EPISODES}x${MINUTES}.json`), JSON.stringify({ episodes: EPISODES, minutes: MINUTES, index: idx, webBuildMs, loads, breakdown, cold, warm, warmOutside, floor, cli, queries: qs }, null, 2));
  } finally {
    await browser?.close();
    await server.stop();
    if (benchArgs.keep) console.log(`kept ${root}`);
    else rmSync(root, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
