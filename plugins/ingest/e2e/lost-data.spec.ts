/**
 * End to end: a cache hit never stands in for data that is gone. A throw-away workspace with a site backed by
 * a bucket folder outside the data folder and a site with no storage, run as cron runs it; then the data
 * folder is deleted, or the index damaged, and a plain run (no --skip-nx-cache) must make search work again,
 * while a run with nothing lost stays all cache hits.
 */
import { existsSync, openSync, readFileSync, rmSync, writeSync, closeSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { createTempWorkspace, type TempWorkspace } from '@podline/testing/temp-workspace';
import { fakeMp3, startFeedServer, type FeedServer } from '@podline/testing/http-feed-server';

// Four full runs of two sites per test: minutes on a busy machine.
jest.setTimeout(900_000);

const SITES = ['kept', 'alone'] as const;
const CACHED = ['transcribe', 'upload', 'index'] as const;

function feed(server: FeedServer, site: string, ns: number[]): string {
  const items = ns
    .map((n) => {
      server.route(`/${site}/ep${n}.mp3`, { body: fakeMp3(20_000 + n, n) });
      const srt = `1\n00:00:00,000 --> 00:00:04,000\n${site} talks about lighthouse number${n}\n\n2\n00:00:04,000 --> 00:00:08,000\nThe end.\n`;
      server.route(`/${site}/ep${n}.srt`, { body: srt, contentType: 'application/x-subrip' });
      return `<item><title>${site} episode ${n}</title><guid>${site}-${n}</guid><pubDate>Mon, 0${n} Nov 2026 08:00:00 GMT</pubDate>
        <enclosure url="${server.url(`/${site}/ep${n}.mp3`)}" type="audio/mpeg" length="${20_000 + n}"/>
        <podcast:transcript url="${server.url(`/${site}/ep${n}.srt`)}" type="application/x-subrip" language="en"/></item>`;
    })
    .join('\n');
  return `<?xml version="1.0"?><rss version="2.0" xmlns:podcast="https://podcastindex.org/namespace/1.0"><channel><title>${site}</title>${items}</channel></rss>`;
}

describe('a cache hit never stands in for data that is gone', () => {
  let server: FeedServer;
  let ws: TempWorkspace;
  const run = () => ws.nx(['run-many', '-t', 'index', '--outputStyle=static']);
  const outcomes = () => {
    const rep = JSON.parse(readFileSync(path.join(ws.dataDir, '.reports', 'latest.json'), 'utf8')) as { rows: Array<{ site: string; target: string; status: string }> };
    return Object.fromEntries(rep.rows.map((r) => [`${r.site}:${r.target}`, r.status]));
  };
  const search = async (site: string, q: string) => {
    const res = await ws.nx(['run', `${site}:search`, `--query=${q}`, '--json', '--outputStyle=static']);
    if (res.code !== 0) throw new Error(`search in ${site} failed:\n${res.output}`);
    const json = res.stdout.slice(res.stdout.indexOf('{'), res.stdout.lastIndexOf('}') + 1);
    return (JSON.parse(json) as { hits: Array<{ episodeTitle: string }> }).hits.map((h) => h.episodeTitle);
  };
  const expectSearchable = async () => {
    for (const site of SITES) expect(await search(site, 'number2')).toEqual([`${site} episode 2`]);
  };
  const expectRun = async (want: 'success' | 'cache') => {
    const res = await run();
    if (res.code !== 0) throw new Error(res.output);
    const got = outcomes();
    for (const site of SITES) {
      for (const t of CACHED) {
        if (want === 'cache') expect([`${site}:${t}`, got[`${site}:${t}`]]).toEqual([`${site}:${t}`, 'cached']);
        else expect(got[`${site}:${t}`]).toBeDefined();
      }
    }
    return got;
  };

  beforeAll(async () => {
    server = await startFeedServer();
    ws = createTempWorkspace();
    for (const site of SITES) {
      server.route(`/${site}.xml`, { body: feed(server, site, [1, 2]), contentType: 'application/rss+xml', etag: true });
      ws.writeSite(site, {
        title: site,
        podcasts: [{ id: 'show', title: 'Show', feedUrl: server.url(`/${site}.xml`) }],
        // The bucket of `kept` lives outside the data folder (as a real bucket would); `alone` has none.
        storage: site === 'kept' ? { kind: 'local', path: 'bucket/kept' } : { kind: 'none' },
      });
    }
  });

  afterAll(async () => {
    ws?.cleanup();
    await server?.close();
  });

  it('a first run builds everything and the second is all cache hits', async () => {
    await expectRun('success');
    await expectSearchable();
    await expectRun('cache');
  });

  it('after the data folder is deleted, a plain run restores what the bucket has, rebuilds the rest, and search works', async () => {
    rmSync(ws.dataDir, { recursive: true, force: true });
    const res = await run();
    if (res.code !== 0) throw new Error(res.output);
    const got = outcomes();
    for (const site of SITES) {
      expect(got[`${site}:transcribe`]).toBe('success');
      expect(got[`${site}:index`]).toBe('success');
    }
    expect(res.output).toMatch(/the products of transcribe are not on record in this data folder: transcribe runs again/);
    // `kept` got its files back from the bucket; `alone` made them again.
    for (const site of SITES) expect(existsSync(path.join(ws.dataDir, site, 'search-index', 'index.sqlite'))).toBe(true);
    await expectSearchable();
    // Nothing lost any more: the next run is all cache hits again.
    await expectRun('cache');
  });

  it('a damaged index is rebuilt by a plain run, and the next run hits the cache', async () => {
    for (const site of SITES) {
      const file = path.join(ws.dataDir, site, 'search-index', 'index.sqlite');
      const size = statSync(file).size;
      const fd = openSync(file, 'r+');
      // Keep the header, scribble over the pages after it: the file still opens, its b-trees are garbage.
      writeSync(fd, Buffer.alloc(size - 4096, 0x5a), 0, size - 4096, 4096);
      closeSync(fd);
    }
    const got = await expectRun('success');
    for (const site of SITES) {
      expect(got[`${site}:transcribe`]).toBe('success');
      expect(got[`${site}:index`]).toBe('success');
      expect(got[`${site}:upload`]).toBe('cached');
    }
    await expectSearchable();
    await expectRun('cache');
  });
});
