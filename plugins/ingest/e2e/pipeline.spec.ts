/**
 * End to end: a throw-away workspace with three sites whose feeds are served on 127.0.0.1, one of them
 * backed by a real S3-compatible server, run through `nx run-many -t index` as cron runs it.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { createTempWorkspace, type NxResult, type TempWorkspace } from '@podline/testing/temp-workspace';
import { fakeMp3, startFeedServer, type FeedServer } from '@podline/testing/http-feed-server';
import { startS3Server, S3_TEST_CREDENTIALS, type S3TestServer } from '@podline/testing/s3-server';

jest.setTimeout(300_000);

interface Ep {
  n: number;
  slow?: boolean;
}

function srt(text: string): string {
  return `1\n00:00:00,000 --> 00:00:04,000\n${text}\n\n2\n00:00:04,000 --> 00:00:09,000\nThe end of ${text}.\n`;
}

function feed(server: FeedServer, site: string, episodes: Ep[]): string {
  const items = episodes
    .map((e) => {
      const audio = `/${site}/ep${e.n}.mp3`;
      const transcript = `/${site}/ep${e.n}.srt`;
      server.route(audio, e.slow ? { body: fakeMp3(400_000, e.n), stallAfter: 50_000 } : { body: fakeMp3(20_000 + e.n, e.n) });
      server.route(transcript, { body: srt(`${site} episode ${e.n} about ${site === 'alpha' ? 'lighthouses' : 'honeybees'}`), contentType: 'application/x-subrip' });
      return `<item><title>${site} episode ${e.n}</title><guid>${site}-${e.n}</guid>
        <pubDate>Mon, ${String(e.n).padStart(2, '0')} Nov 2026 08:00:00 GMT</pubDate>
        <enclosure url="${server.url(audio)}" type="audio/mpeg" length="${e.slow ? 400_000 : 20_000 + e.n}"/>
        <podcast:transcript url="${server.url(transcript)}" type="application/x-subrip" language="en"/></item>`;
    })
    .join('\n');
  return `<?xml version="1.0"?><rss version="2.0" xmlns:podcast="https://podcastindex.org/namespace/1.0"><channel>
    <title>${site}</title><link>https://example.com/${site}</link><description>${site}</description>${items}</channel></rss>`;
}

function serveFeed(server: FeedServer, site: string, episodes: Ep[]) {
  server.route(`/${site}.xml`, { body: feed(server, site, episodes), contentType: 'application/rss+xml', etag: true });
}

/** How each task of the last run ended, by "<project>:<target>", from the run's JSON report. */
function taskOutcomes(ws: TempWorkspace): Record<string, 'ran' | 'cached' | 'failed' | 'skipped'> {
  const out: Record<string, 'ran' | 'cached' | 'failed' | 'skipped'> = {};
  for (const row of report(ws).rows) {
    out[`${row.site}:${row.target}`] = row.status === 'success' ? 'ran' : row.status === 'failure' ? 'failed' : (row.status as 'cached' | 'skipped');
  }
  return out;
}

function report(ws: TempWorkspace) {
  return JSON.parse(readFileSync(path.join(ws.dataDir, '.reports', 'latest.json'), 'utf8')) as {
    success: boolean;
    rows: Array<{ site: string; target: string; status: string; seconds?: number; counts?: Record<string, number>; problems?: Array<{ message: string }> }>;
  };
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => path.relative(dir, path.join(d.parentPath ?? (d as unknown as { path: string }).path, d.name)))
    .sort();
}

describe('nx run-many -t index, end to end', () => {
  let server: FeedServer;
  let s3: S3TestServer;
  let ws: TempWorkspace;
  const run = (extra: string[] = [], env?: NodeJS.ProcessEnv) => ws.nx(['run-many', '-t', 'index', '--outputStyle=static', ...extra], { env });

  beforeAll(async () => {
    server = await startFeedServer();
    s3 = await startS3Server();
    await s3.createBucket('beta-bucket');
    ws = createTempWorkspace({
      env: { AWS_ACCESS_KEY_ID: S3_TEST_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: S3_TEST_CREDENTIALS.secretAccessKey, AWS_REGION: 'us-east-1' },
    });
    for (const site of ['alpha', 'beta', 'gamma']) {
      serveFeed(server, site, [{ n: 1 }, { n: 2 }]);
      ws.writeSite(site, {
        title: `Site ${site}`,
        podcasts: [{ id: 'show', title: 'Show', feedUrl: server.url(`/${site}.xml`) }],
        network: { allowPrivateAddresses: true }, // the feed server is on 127.0.0.1
        ...(site === 'beta'
          ? { storage: { kind: 's3', bucket: 'beta-bucket', region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true } }
          : {}),
      });
    }
  });

  afterAll(async () => {
    ws?.cleanup();
    await server?.close();
    await s3?.stop();
  });

  it('a dry run of the whole chain on new sites succeeds and changes nothing anywhere', async () => {
    const res = await run(['--dryRun', '--skip-nx-cache']);
    if (res.code !== 0) throw new Error(res.output);
    for (const site of ['alpha', 'beta', 'gamma']) expect(existsSync(path.join(ws.dataDir, site))).toBe(false);
    expect(existsSync(path.join(ws.dataDir, '.bucket'))).toBe(false);
    expect(existsSync(path.join(ws.root, '.podline', 'state'))).toBe(false);
    const listed = await s3.client().send(new ListObjectsV2Command({ Bucket: 'beta-bucket' }));
    expect(listed.Contents ?? []).toEqual([]);
    expect(report(ws).rows.every((r) => r.status === 'success')).toBe(true);
  });

  it('does everything on the first run', async () => {
    const res = await run();
    if (res.code !== 0) throw new Error(res.output);
    const outcomes = taskOutcomes(ws);
    for (const site of ['alpha', 'beta', 'gamma']) {
      for (const t of ['pre-sync', 'check', 'rss', 'transcribe', 'upload', 'index']) expect(outcomes[`${site}:${t}`]).toBe('ran');
      const data = path.join(ws.dataDir, site);
      expect(filesUnder(path.join(data, 'audio', 'show'))).toHaveLength(2);
      expect(filesUnder(path.join(data, 'transcripts', 'show'))).toHaveLength(2);
      expect(filesUnder(path.join(data, 'search-entries', 'show'))).toHaveLength(2);
    }
    // The local "bucket" of alpha and the S3 bucket of beta hold the same layout.
    const alphaBucket = filesUnder(path.join(ws.dataDir, '.bucket', 'alpha'));
    expect(alphaBucket).toEqual(expect.arrayContaining(['episode-manifest/full-episode-manifest.json', expect.stringMatching(/^audio\/show\/.+\.mp3$/), expect.stringMatching(/^transcripts\/show\/.+\.srt$/), expect.stringMatching(/^search-entries\/show\/.+\.json$/), expect.stringMatching(/^search-index\//)]));
    const listed = await s3.client().send(new ListObjectsV2Command({ Bucket: 'beta-bucket' }));
    const keys = (listed.Contents ?? []).map((o) => o.Key!);
    expect(keys).toEqual(expect.arrayContaining(['episode-manifest/full-episode-manifest.json']));
    // The locally built index is published to the bucket by the index target itself.
    expect(keys.filter((k) => k.startsWith('search-entries/show/'))).toHaveLength(2);
    expect(keys.filter((k) => k.startsWith('audio/show/'))).toHaveLength(2);
    expect(keys.filter((k) => k.startsWith('transcripts/show/'))).toHaveLength(2);
    // The run report has a row for every task, each with its real duration (a worker starting alone takes time).
    expect(report(ws).rows).toHaveLength(18);
    expect(report(ws).rows.filter((r) => !(r.seconds! > 0))).toEqual([]);
    // The Nx cache holds state files only: no audio.
    expect(filesUnder(path.join(ws.root, '.nx', 'cache')).filter((f) => /\.(mp3|srt|sqlite)$/.test(f))).toEqual([]);
  });

  it('is all cache hits after the outward-looking targets when nothing changed, with one conditional request per feed', async () => {
    server.resetRequests();
    const res = await run();
    expect(res.code).toBe(0);
    const outcomes = taskOutcomes(ws);
    for (const site of ['alpha', 'beta', 'gamma']) {
      for (const t of ['pre-sync', 'check', 'rss']) expect(outcomes[`${site}:${t}`]).toBe('ran');
      for (const t of ['transcribe', 'upload', 'index']) expect(outcomes[`${site}:${t}`]).toBe('cached');
    }
    expect(server.requests.map((r) => `${r.path} ${r.status}`).sort()).toEqual(['/alpha.xml 304', '/beta.xml 304', '/gamma.xml 304']);
  });

  it('re-runs exactly the chain of the site that has a new episode', async () => {
    serveFeed(server, 'alpha', [{ n: 1 }, { n: 2 }, { n: 3 }]);
    const res = await run();
    expect(res.code).toBe(0);
    const outcomes = taskOutcomes(ws);
    for (const t of ['transcribe', 'upload', 'index']) {
      expect(outcomes[`alpha:${t}`]).toBe('ran');
      expect(outcomes[`beta:${t}`]).toBe('cached');
      expect(outcomes[`gamma:${t}`]).toBe('cached');
    }
    expect(filesUnder(path.join(ws.dataDir, 'alpha', 'transcripts', 'show'))).toHaveLength(3);
    // The rebuilt index replaced the bucket's copy.
    expect(filesUnder(path.join(ws.dataDir, '.bucket', 'alpha', 'search-entries', 'show'))).toHaveLength(3);
    const indexBytes = (p: string) => readFileSync(path.join(p, 'search-index', 'index.sqlite'));
    expect(indexBytes(path.join(ws.dataDir, '.bucket', 'alpha')).equals(indexBytes(path.join(ws.dataDir, 'alpha')))).toBe(true);
    const rss = report(ws).rows.find((r) => r.site === 'alpha' && r.target === 'rss')!;
    expect(rss.counts).toMatchObject({ downloaded: 1 });
  });

  it('keeps the other sites going when one feed fails, and exits non-zero', async () => {
    server.route('/gamma.xml', { status: 500, body: 'boom' });
    const res = await run();
    expect(res.code).not.toBe(0);
    const outcomes = taskOutcomes(ws);
    expect(outcomes['gamma:rss']).toBe('failed');
    expect(outcomes['alpha:index']).toBe('cached');
    expect(outcomes['beta:index']).toBe('cached');
    const rep = report(ws);
    expect(rep.success).toBe(false);
    const gamma = rep.rows.find((r) => r.site === 'gamma' && r.target === 'rss')!;
    expect(gamma.status).toBe('failure');
    expect(gamma.problems?.[0].message).toMatch(/500/);
    expect(res.output).toMatch(/Problems:/);
    serveFeed(server, 'gamma', [{ n: 1 }, { n: 2 }]);
  });

  it('lets only one of two concurrent runs work on a site', async () => {
    // Slow alpha's feed so the first run holds alpha's lock while the second starts.
    server.route('/alpha.xml', { body: feed(server, 'alpha', [{ n: 1 }, { n: 2 }, { n: 3 }]), contentType: 'application/rss+xml', delayMs: 10_000 });
    const first = run();
    // Start the second run once the first holds alpha's lock (its feed then keeps it busy for 10 s).
    const lock = path.join(ws.dataDir, '.locks', 'alpha.lock');
    for (let i = 0; i < 600 && !existsSync(lock); i++) await new Promise((r) => setTimeout(r, 100));
    const second = await run(['--projects=alpha']);
    const firstRes = await first;
    if (firstRes.code !== 0) throw new Error(`the first run failed:\n${firstRes.output}\n--- second:\n${second.output}`);
    expect(second.code).not.toBe(0);
    expect(second.output).toMatch(/site alpha is being worked on by another run/);
    serveFeed(server, 'alpha', [{ n: 1 }, { n: 2 }, { n: 3 }]);
  });

  it('finishes the job after a run is killed mid-download, with nothing corrupt', async () => {
    serveFeed(server, 'gamma', [{ n: 1 }, { n: 2 }, { n: 3, slow: true }]);
    let pid = 0;
    const killed = ws.nx(['run-many', '-t', 'index', '--outputStyle=static', '--projects=gamma'], {
      onSpawn: (p) => (pid = p),
      detached: true,
    });
    // Wait until the slow enclosure is being downloaded, then kill the whole run.
    for (let i = 0; i < 200 && !server.requests.some((r) => r.path === '/gamma/ep3.mp3'); i++) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 500));
    process.kill(-pid, 'SIGKILL'); // the whole run: nx and every task process
    await killed;
    const audioDir = path.join(ws.dataDir, 'gamma', 'audio', 'show');
    expect(filesUnder(audioDir).filter((f) => f.endsWith('.mp3') && !f.startsWith('.'))).toHaveLength(2);

    serveFeed(server, 'gamma', [{ n: 1 }, { n: 2 }, { n: 3 }]);
    const res = await run(['--projects=gamma']);
    if (res.code !== 0) throw new Error(`the run after the kill failed:\n${res.output}`);
    expect(filesUnder(audioDir).filter((f) => !f.startsWith('.'))).toHaveLength(3);
    const manifest = JSON.parse(readFileSync(path.join(ws.dataDir, 'gamma', 'episode-manifest', 'full-episode-manifest.json'), 'utf8'));
    expect(manifest.episodes.filter((e: { status: string }) => e.status === 'downloaded')).toHaveLength(3);
    expect(filesUnder(path.join(ws.dataDir, '.bucket', 'gamma')).filter((f) => f.includes('podline-tmp'))).toEqual([]);
  });
});
