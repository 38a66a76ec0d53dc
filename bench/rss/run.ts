/**
 * rss benchmark (run on demand, never in tests):
 *
 *   npx nx run bench:rss [--feeds=10] [--items=200] [--repeat=5] [--mb=300] [--feedmb=30]
 *
 * 1. Second run against unchanged feeds: requests made and wall time of `runRss`, against the floor of
 *    one bare conditional GET per feed (Node http, same process) and curl doing the same, measured now.
 * 2. Peak memory while downloading a large enclosure (generated and streamed on 127.0.0.1, never held in
 *    memory), in a child process, against an idle Node process with the lib loaded and against curl.
 * 3. Parsing a large feed (`--feedmb` MB) in a child process: time and peak memory of parseFeedXml against
 *    rss-parser (the parser Podline used before) on the same text, measured now.
 * Everything is on loopback; all files go to a temp folder that is removed at the end.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import * as http from 'node:http';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { SitePaths, type SiteConfig } from '@podline/config';
import { runRss, type RssLogger } from '@podline/feeds';
import { fakeMp3, generatedSha256, startFeedServer, type FeedServer } from '@podline/testing/http-feed-server';
import { benchArgs, benchHelp } from '../args';
import { spawnTs } from '@podline/testing/run-ts';

benchHelp('npx nx run bench:rss [--feeds=10] [--items=200] [--repeat=5] [--mb=300] [--feedmb=30]');

const args = benchArgs;
const FEEDS = Number(args.feeds ?? 10);
const ITEMS = Number(args.items ?? 200);
const REPEAT = Number(args.repeat ?? 5);
const MB = Number(args.mb ?? 300);
const FEED_MB = Number(args.feedmb ?? 30);

const quiet: RssLogger = { info: () => undefined, warn: (m) => console.warn(m), debug: () => undefined, progress: () => undefined };
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (n: number, d = 1) => n.toFixed(d);

function feedXml(server: FeedServer, f: number): string {
  const items = Array.from({ length: ITEMS }, (_, i) => {
    const n = ITEMS - i;
    const date = new Date(Date.UTC(2020, 0, 1) + n * 86_400_000).toUTCString();
    return `<item><title>Feed ${f} episode ${n}</title><guid>f${f}-e${n}</guid><pubDate>${date}</pubDate>
      <description>Episode ${n} of feed ${f}, with a description long enough to look like a real one.</description>
      <enclosure url="${server.url(`/f${f}/audio/${n}.mp3`)}" type="audio/mpeg" length="2000"/><itunes:duration>1:02:03</itunes:duration></item>`;
  }).join('\n');
  return `<?xml version="1.0"?><rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel><title>Feed ${f}</title>${items}</channel></rss>`;
}

function conditionalGet(url: string, etag: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers: { 'If-None-Match': etag } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      })
      .on('error', reject);
  });
}

async function secondRun(server: FeedServer, work: string) {
  const root = path.join(work, 'ws');
  mkdirSync(path.join(root, 'sites', 'bench'), { recursive: true });
  const site: SiteConfig = {
    id: 'bench',
    title: 'bench',
    siteDir: path.join(root, 'sites', 'bench'),
    configFile: path.join(root, 'sites', 'bench', 'site.config.json'),
    podcasts: Array.from({ length: FEEDS }, (_, f) => ({ id: `feed-${f}`, title: `Feed ${f}`, feedUrl: server.url(`/f${f}/feed.xml`), active: true })),
    storage: { kind: 'local' },
    transcription: { engine: 'whisper', model: 'base.en', language: 'en', usePublisherTranscripts: true },
    network: { allowPrivateAddresses: true }, // the feed server is on 127.0.0.1
    index: { kind: 'local' },
  };
  for (let f = 0; f < FEEDS; f++) {
    server.route(`/f${f}/feed.xml`, { body: feedXml(server, f), contentType: 'application/rss+xml', etag: true });
    server.route(`/f${f}/audio/*`, { body: fakeMp3(2000, f) });
  }
  const paths = new SitePaths('bench', root, {});
  // First run: every feed parsed, the newest 5 episodes of each downloaded.
  const t0 = process.hrtime.bigint();
  const first = await runRss(site, paths, { maxEpisodes: 5 }, quiet);
  const firstMs = Number(process.hrtime.bigint() - t0) / 1e6;
  if (first.problems.length) throw new Error(first.problems.map((p) => p.message).join('\n'));

  const runs: number[] = [];
  const requests: number[] = [];
  for (let i = 0; i < REPEAT; i++) {
    server.resetRequests();
    const t = process.hrtime.bigint();
    const again = await runRss(site, paths, { maxEpisodes: 5 }, quiet);
    runs.push(Number(process.hrtime.bigint() - t) / 1e6);
    requests.push(server.count());
    if (again.counts.downloaded || again.counts.unchanged !== FEEDS) throw new Error(`second run was not a no-op: ${JSON.stringify(again.counts)}`);
    if (server.requests.some((r) => r.status !== 304)) throw new Error('a second-run request was not answered 304');
  }

  // Floor: the same conditional requests with nothing else (Node http in this process).
  const etags = Array.from({ length: FEEDS }, (_, f) => server.requests.find((r) => r.path === `/f${f}/feed.xml`)!.headers['if-none-match'] as string);
  const floor: number[] = [];
  for (let i = 0; i < REPEAT; i++) {
    const t = process.hrtime.bigint();
    await Promise.all(etags.map((e, f) => conditionalGet(server.url(`/f${f}/feed.xml`), e)));
    floor.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  // Reference tool: curl, one process doing all the conditional requests in sequence.
  let curlMs: number | undefined;
  if (spawnSync('curl', ['--version']).status === 0) {
    const curlArgs = etags.flatMap((e, f) => ['-s', '-o', '/dev/null', '-H', `If-None-Match: ${e}`, server.url(`/f${f}/feed.xml`), '--next']).slice(0, -1);
    const times: number[] = [];
    for (let i = 0; i < REPEAT; i++) {
      const t = process.hrtime.bigint();
      await new Promise<void>((resolve) => spawn('curl', curlArgs, { stdio: 'ignore' }).on('close', () => resolve()));
      times.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    curlMs = median(times);
  }
  return { firstMs, secondMs: median(runs), requests: median(requests), floorMs: median(floor), curlMs };
}

function childDownload(args: string[]): Promise<{ size: number; sha256: string; ms: number; peakRssKb: number }> {
  return new Promise((resolve, reject) => {
    const child = spawnTs(path.join(__dirname, 'download-child.ts'), args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`download child exited ${code}`))));
  });
}

interface ParseFigures {
  bytes: number;
  items: number;
  ms: number;
  floorKb: number;
  peakRssKb: number;
}

function childParse(which: 'ours' | 'reference'): Promise<ParseFigures> {
  return new Promise((resolve, reject) => {
    const child = spawnTs(path.join(__dirname, 'parse-child.ts'), [which, String(FEED_MB)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`parse child exited ${code}`))));
  });
}

/** curl's peak RSS through GNU time when present (kilobytes), and its wall time. */
async function curlDownload(url: string, dest: string): Promise<{ ms: number; peakRssKb?: number } | undefined> {
  if (spawnSync('curl', ['--version']).status !== 0) return undefined;
  const gnuTime = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
  const t = process.hrtime.bigint();
  const [cmd, cmdArgs] = gnuTime ? [gnuTime, ['-f', '%M', 'curl', '-s', '-o', dest, url]] : ['curl', ['-s', '-o', dest, url]];
  let err = '';
  await new Promise<void>((resolve) => {
    const c = spawn(cmd, cmdArgs, { stdio: ['ignore', 'ignore', 'pipe'] });
    c.stderr.on('data', (d) => (err += d));
    c.on('close', () => resolve());
  });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  const kb = Number(err.trim().split('\n').pop());
  return { ms, peakRssKb: gnuTime && Number.isFinite(kb) ? kb : undefined };
}

async function bigDownload(server: FeedServer, work: string) {
  const size = Math.round(MB * 1e6);
  server.route('/big.mp3', { generate: size, contentType: 'audio/mpeg' });
  const idle = await childDownload(['--idle']);
  const dest = path.join(work, 'big.mp3');
  const ours = await childDownload([server.url('/big.mp3'), dest]);
  if (ours.size !== size || statSync(dest).size !== size) throw new Error(`downloaded ${ours.size} bytes, expected ${size}`);
  const expected = generatedSha256(size);
  if (ours.sha256 !== expected) throw new Error('sha256 mismatch');
  rmSync(dest);
  const curl = await curlDownload(server.url('/big.mp3'), path.join(work, 'curl.mp3'));
  rmSync(path.join(work, 'curl.mp3'), { force: true });
  return { size, idle, ours, curl };
}

async function main() {
  const work = mkdtempSync(path.join(tmpdir(), 'podline-bench-rss-'));
  const server = await startFeedServer();
  try {
    const a = await secondRun(server, work);
    const b = await bigDownload(server, work);
    const p = await childParse('ours');
    const r = await childParse('reference');
    if (p.items !== r.items) throw new Error(`parsers disagree: ${p.items} vs ${r.items} items`);
    const mbOf = (kb: number) => kb / 1024;
    const rows: Array<[string, string]> = [
      [`feeds x items`, `${FEEDS} x ${ITEMS}`],
      ['first run (parse all, 5 downloads/feed)', `${fmt(a.firstMs, 0)} ms`],
      ['second run: requests', `${a.requests} (${fmt(a.requests / FEEDS, 2)} per feed)`],
      ['second run: wall time (median)', `${fmt(a.secondMs)} ms`],
      ['floor: bare conditional GETs (Node)', `${fmt(a.floorMs)} ms  (runRss ${fmt(a.secondMs / a.floorMs)}x)`],
      ['reference: curl, same requests', a.curlMs === undefined ? 'n/a' : `${fmt(a.curlMs)} ms  (runRss ${fmt(a.secondMs / a.curlMs, 2)}x)`],
      [`download ${MB} MB: wall time`, `${fmt(b.ours.ms / 1000, 2)} s  (${fmt(b.size / 1e6 / (b.ours.ms / 1000))} MB/s, sha256 verified)`],
      ['download: peak RSS', `${fmt(mbOf(b.ours.peakRssKb))} MB  (${fmt((b.ours.peakRssKb * 1024 * 100) / b.size)}% of the file)`],
      ['idle node + lib: peak RSS', `${fmt(mbOf(b.idle.peakRssKb))} MB  (download adds ${fmt(mbOf(b.ours.peakRssKb - b.idle.peakRssKb))} MB)`],
      [
        'reference: curl -o, same file',
        b.curl ? `${fmt(b.curl.ms / 1000, 2)} s, peak RSS ${b.curl.peakRssKb ? `${fmt(mbOf(b.curl.peakRssKb))} MB` : 'n/a'}` : 'n/a',
      ],
      [`parse a ${fmt(p.bytes / 1e6, 0)} MB feed (${p.items} items)`, `${fmt(p.ms / 1000, 2)} s, memory over the text ${fmt(mbOf(p.peakRssKb - p.floorKb))} MB`],
      ['reference: rss-parser, same text', `${fmt(r.ms / 1000, 2)} s (ours ${fmt(p.ms / r.ms, 2)}x), memory over the text ${fmt(mbOf(r.peakRssKb - r.floorKb))} MB (ours ${fmt((p.peakRssKb - p.floorKb) / (r.peakRssKb - r.floorKb), 2)}x)`],
    ];
    const w = Math.max(...rows.map((r) => r[0].length));
    console.log(`\nrss benchmark (loopback, node ${process.version})\n`);
    for (const [k, v] of rows) console.log(`  ${k.padEnd(w)}  ${v}`);
    console.log('');
  } finally {
    await server.close();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
