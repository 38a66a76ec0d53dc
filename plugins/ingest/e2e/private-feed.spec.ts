/**
 * End to end: a private (paid) feed served on 127.0.0.1 whose URL carries a token, given to the site config
 * as `${secret:SHOW_TOKEN}` and to Podline through the environment. Its enclosures are signed URLs that
 * expire. Over three `nx run <site>:index` runs (the first downloads one episode of two, the second finds the
 * other's stored URL expired and reads the feed again for a fresh one, a third has a broken enclosure), the
 * token never appears in any file of the workspace (data folder, state files, reports, the Nx cache) nor in
 * anything printed, while the server saw it on every request.
 */
import { randomBytes } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { createTempWorkspace, type TempWorkspace } from '@podline/testing/temp-workspace';
import { fakeMp3 } from '@podline/testing/http-feed-server';

jest.setTimeout(600_000);

const TOKEN = `tok-${randomBytes(12).toString('hex')}`;
const SPELLINGS = [TOKEN, encodeURIComponent(TOKEN), Buffer.from(TOKEN).toString('base64')];

/** The paid host: every request needs the token; audio needs the signature of the latest feed generation. */
function startPaidHost() {
  let generation = 1;
  const log: Array<{ path: string; status: number }> = [];
  const episodes = [1, 2, 3];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const answer = (status: number, body: string | Buffer = '', type = 'text/plain', headers: Record<string, string> = {}) => {
      log.push({ path: url.pathname, status });
      res.writeHead(status, { 'Content-Type': type, 'Content-Length': String(Buffer.byteLength(body)), ...headers });
      res.end(body);
    };
    if (url.searchParams.get('token') !== TOKEN) return answer(403, 'forbidden: no valid token');
    if (url.pathname === '/feed.xml') {
      // The feed's ETag does not change when the signatures rotate: a conditional read says "unchanged".
      if (req.headers['if-none-match'] === '"v1"') return answer(304);
      const items = episodes.map((n) => {
        const audio = n === 3 ? `/audio/missing.mp3?token=${TOKEN}` : `/audio/ep${n}.mp3?token=${TOKEN}&amp;sig=${generation}`;
        return `<item><title>Members ${n}</title><guid>members-${n}</guid><pubDate>Mon, 0${n} Nov 2026 08:00:00 GMT</pubDate>
          <enclosure url="http://127.0.0.1:${port()}${audio}" type="audio/mpeg" length="${20_000 + n}"/>
          <podcast:transcript url="http://127.0.0.1:${port()}/t/ep${n}.srt?token=${TOKEN}" type="application/x-subrip"/></item>`;
      });
      const xml = `<?xml version="1.0"?><rss version="2.0" xmlns:podcast="https://podcastindex.org/namespace/1.0"><channel>
        <title>Members only</title><link>https://example.com/</link><description>d</description>${items.join('\n')}</channel></rss>`;
      return answer(200, xml, 'application/rss+xml', { ETag: '"v1"' });
    }
    const audio = /^\/audio\/ep(\d)\.mp3$/.exec(url.pathname);
    if (audio) {
      if (url.searchParams.get('sig') !== String(generation)) return answer(403, 'signature expired');
      return answer(200, fakeMp3(20_000 + Number(audio[1]), Number(audio[1])), 'audio/mpeg');
    }
    const srt = /^\/t\/ep(\d)\.srt$/.exec(url.pathname);
    if (srt) return answer(200, `1\n00:00:00,000 --> 00:00:04,000\nMembers episode ${srt[1]} about walruses.\n`, 'application/x-subrip');
    return answer(404, 'not found');
  });
  const port = () => (server.address() as AddressInfo).port;
  return {
    listen: () => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve())),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    url: (p: string) => `http://127.0.0.1:${port()}${p}`,
    rotate: () => generation++,
    log,
  };
}

/** Every regular file under `dir` (links not followed; the workspace's node_modules left out). */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const file = path.join(dir, name);
    const st = lstatSync(file);
    if (st.isDirectory() && name !== 'node_modules') out.push(...filesUnder(file));
    else if (st.isFile()) out.push(file);
  }
  return out;
}

function leaks(text: string | Buffer): boolean {
  const s = text.toString();
  return SPELLINGS.some((t) => s.includes(t));
}

describe('a private feed with a token and expiring enclosures', () => {
  const host = startPaidHost();
  let ws: TempWorkspace;
  const printed: string[] = [];

  const run = async (args: string[]) => {
    const res = await ws.nx(args, { env: { SHOW_TOKEN: TOKEN } });
    printed.push(res.output);
    return res;
  };
  const report = () => JSON.parse(readFileSync(path.join(ws.dataDir, '.reports', 'latest.json'), 'utf8')) as { rows: Array<{ target: string; status: string; counts?: Record<string, number>; problems?: Array<{ message: string }> }> };

  beforeAll(async () => {
    await host.listen();
    ws = createTempWorkspace();
    const res = await run(['g', '@podline/ingest:site', 'members', '--storage=local', '--title=Members', `--feedUrl=${host.url('/feed.xml')}?token=\${secret:SHOW_TOKEN}`, '--maxDownloadsPerRun=2', '--no-interactive']);
    if (res.code !== 0) throw new Error(res.output);
    const file = path.join(ws.root, 'sites', 'members', 'site.config.json');
    const config = JSON.parse(readFileSync(file, 'utf8'));
    expect(config.podcasts[0].feedUrl).toBe(`${host.url('/feed.xml')}?token=\${secret:SHOW_TOKEN}`);
    writeFileSync(file, JSON.stringify({ ...config, network: { allowPrivateAddresses: true } }, null, 2));
  });
  afterAll(async () => {
    ws?.cleanup();
    await host.close();
  });

  it('the first run reads the feed with the token and downloads the newest episode it can', async () => {
    const res = await run(['run', 'members:index', '--outputStyle=static', '--maxFailedRuns=1']);
    // Episode 3's enclosure is broken: that episode fails (its message names the URL, token masked).
    expect(res.code).not.toBe(0);
    const rss = report().rows.find((r) => r.target === 'rss')!;
    expect(rss.counts).toMatchObject({ downloaded: 1, failed: 1, pending: 1 });
    expect(rss.problems?.[0].message).toContain('given up');
    expect(rss.problems?.[0].message).toContain('missing.mp3?token=${secret:SHOW_TOKEN}');
    expect(res.output).toContain('${secret:SHOW_TOKEN}');
    expect(host.log.filter((r) => r.path === '/feed.xml').map((r) => r.status)).toEqual([200]);
  });

  it('an expired enclosure URL is refreshed from the feed right before its download', async () => {
    host.rotate(); // the signatures of the first read expire
    const before = host.log.length;
    const res = await run(['run', 'members:index', '--outputStyle=static', '--maxFailedRuns=1']);
    const seen = host.log.slice(before).map((r) => `${r.path} ${r.status}`);
    // Conditional read: unchanged (304); the stored URL is refused (403); the feed read in full; the fresh URL works.
    expect(seen.filter((s) => s.startsWith('/feed.xml'))).toEqual(['/feed.xml 304', '/feed.xml 200']);
    expect(seen).toContain('/audio/ep1.mp3 403');
    expect(seen).toContain('/audio/ep1.mp3 200');
    expect(res.output).toContain('the stored enclosure URL was refused');
    const manifest = readFileSync(path.join(ws.dataDir, 'members', 'episode-manifest', 'full-episode-manifest.json'), 'utf8');
    expect(manifest).toContain('sig=2');
    expect(manifest).toContain('token=${secret:SHOW_TOKEN}');
    if (res.code !== 0) throw new Error(res.output);
    expect(report().rows.find((r) => r.target === 'transcribe')?.counts).toMatchObject({ publisher: 2 });
  });

  it('the token is in no file of the workspace, the data folder or the Nx cache, and in nothing printed', async () => {
    const search = await run(['run', 'members:search', '--query=walruses']);
    expect(search.stdout).toContain('Members 1');
    const files = filesUnder(ws.root);
    expect(files.some((f) => f.includes(`${path.sep}.nx${path.sep}`))).toBe(true); // the cache is among them
    expect(files.filter((f) => f.startsWith(ws.dataDir)).length).toBeGreaterThan(5);
    expect(files.filter((f) => leaks(readFileSync(f)))).toEqual([]);
    expect(printed.filter(leaks)).toEqual([]);
    // …and it was really used: every request that got an answer other than 403 carried it.
    expect(host.log.filter((r) => r.status === 200).length).toBeGreaterThan(4);
  });

  it('a secret that is not set stops the feed with the name and the fix, never a value', async () => {
    const res = await ws.nx(['run', 'members:rss', '--outputStyle=static'], { env: { SHOW_TOKEN: '' } });
    expect(res.code).not.toBe(0);
    expect(res.output).toContain('the secret SHOW_TOKEN is not set');
    expect(res.output).toContain('.env.secrets');
  });
});
