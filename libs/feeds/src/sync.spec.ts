import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { SitePaths, TEMP_SUFFIX, type EpisodeManifest, type SiteConfig } from '@podline/config';
import { fakeMp3, startFeedServer, type FeedServer } from '@podline/testing/http-feed-server';
import { rssState } from './state';
import { runRss, type RssLogger, type RssOptions } from './sync';
import { rssXml, type TestItem } from './test-feeds';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function makeSite(root: string, podcasts: Array<{ id: string; feedUrl: string; active?: boolean }>): SiteConfig {
  const siteDir = path.join(root, 'sites', 'test-site');
  mkdirSync(siteDir, { recursive: true });
  return {
    id: 'test-site',
    title: 'Test',
    siteDir,
    configFile: path.join(siteDir, 'site.config.json'),
    podcasts: podcasts.map((p) => ({ id: p.id, title: p.id, feedUrl: p.feedUrl, active: p.active ?? true })),
    storage: { kind: 'local' },
    transcription: { engine: 'whisper', model: 'base.en', language: 'en', usePublisherTranscripts: true },
    // The feeds and enclosures of these tests are served on 127.0.0.1.
    network: { allowPrivateAddresses: true },
    index: { kind: 'local' },
  };
}

function memoryLog(): RssLogger & { lines: string[] } {
  const lines: string[] = [];
  return { lines, info: (m) => lines.push(m), warn: (m) => lines.push(`warn: ${m}`), debug: () => undefined, progress: (m) => lines.push(m) };
}

/** Every file under a folder with its bytes, for "nothing changed" checks. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!existsSync(dir)) return out;
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[path.relative(dir, p)] = sha(readFileSync(p));
    }
  };
  walk(dir);
  return out;
}

describe('runRss end to end against feeds on 127.0.0.1', () => {
  let server: FeedServer;
  let root: string;
  let paths: SitePaths;
  const fast: RssOptions = { timeoutSeconds: 2, retries: 2, retryBaseMs: 1, concurrency: 3 };
  const readManifest = (): EpisodeManifest => JSON.parse(readFileSync(paths.manifestFile, 'utf8'));

  beforeAll(async () => {
    server = await startFeedServer();
  });
  afterAll(() => server.close());
  beforeEach(() => {
    server.resetRequests();
    root = mkdtempSync(path.join(tmpdir(), 'feeds-run-'));
    paths = new SitePaths('test-site', root, {});
  });

  function serveShow(prefix: string, items: TestItem[], audio: Record<string, Buffer>) {
    server.route(`${prefix}/feed.xml`, { body: rssXml(items), contentType: 'application/rss+xml', etag: true });
    for (const [name, body] of Object.entries(audio)) server.route(`${prefix}/${name}`, { body, contentType: 'audio/mpeg' });
  }

  it('happy path: manifest, audio, state; the second run is one conditional request and changes nothing', async () => {
    const a1 = fakeMp3(30_000, 1);
    const a2 = fakeMp3(40_000, 2);
    serveShow(
      '/happy',
      [
        { title: 'Two: the sequel', guid: 'ep-2', date: '2026-11-09T08:00:00Z', url: server.url('/happy/2.mp3'), length: a2.length, duration: '1:00' },
        { title: 'One', guid: 'ep-1', date: '2026-11-02T08:00:00Z', url: server.url('/happy/1.mp3?ad=1'), length: a1.length },
      ],
      { '1.mp3': a1, '2.mp3': a2 },
    );
    const site = makeSite(root, [{ id: 'show', feedUrl: server.url('/happy/feed.xml') }]);
    const first = await runRss(site, paths, fast, memoryLog());
    expect(first.problems).toEqual([]);
    expect(first.counts).toEqual({ feeds: 1, requests: 1, new: 2, downloaded: 2, bytes: a1.length + a2.length });
    const m = readManifest();
    expect(m.site).toBe('test-site');
    expect(m.episodes.map((e) => [e.id, e.fileKey, e.status])).toEqual([
      ['ep-1', expect.stringMatching(/^2026-11-02_one_[0-9a-f]{10}$/), 'downloaded'],
      ['ep-2', expect.stringMatching(/^2026-11-09_two-the-sequel_[0-9a-f]{10}$/), 'downloaded'],
    ]);
    expect(m.episodes[0]).toMatchObject({ audioUrl: server.url('/happy/1.mp3?ad=1'), audio: { key: `audio/show/${m.episodes[0].fileKey}.mp3`, size: a1.length, sha256: sha(a1) } });
    expect(m.episodes[1].durationSeconds).toBe(60);
    expect(readFileSync(paths.audioFile('show', m.episodes[1].fileKey)).equals(a2)).toBe(true);
    expect(readFileSync(paths.rssFile('show'), 'utf8')).toContain('Two: the sequel');
    expect(first.state).toEqual(rssState(m));

    const before = snapshot(paths.root);
    server.resetRequests();
    const second = await runRss(site, paths, fast, memoryLog());
    expect(server.requests.map((r) => [r.path, r.status, !!r.headers['if-none-match']])).toEqual([['/happy/feed.xml', 304, true]]);
    expect(second.counts).toEqual({ feeds: 1, requests: 1, unchanged: 1 });
    expect(snapshot(paths.root)).toEqual(before);
    expect(JSON.stringify(second.state)).toBe(JSON.stringify(first.state));
  });

  it('a changed feed adds new episodes, keeps file keys, and a new enclosure URL for the same guid updates audioUrl only', async () => {
    const a1 = fakeMp3(10_000, 1);
    const items: TestItem[] = [{ title: 'One', guid: 'ep-1', date: '2026-11-02T08:00:00Z', url: server.url('/chg/1.mp3') }];
    serveShow('/chg', items, { '1.mp3': a1, '1b.mp3': a1, '3.mp3': fakeMp3(5000, 3) });
    const site = makeSite(root, [{ id: 'show', feedUrl: server.url('/chg/feed.xml') }]);
    await runRss(site, paths, fast, memoryLog());
    const firstKey = readManifest().episodes[0].fileKey;

    server.route('/chg/feed.xml', {
      body: rssXml([
        { title: 'Three', guid: 'ep-3', date: '2026-11-16T08:00:00Z', url: server.url('/chg/3.mp3') },
        { title: 'One (remastered title)', guid: 'ep-1', date: '2026-11-03T08:00:00Z', url: server.url('/chg/1b.mp3?track=cdn') },
      ]),
      etag: true,
    });
    server.resetRequests();
    const run = await runRss(site, paths, fast, memoryLog());
    expect(run.problems).toEqual([]);
    const m = readManifest();
    const one = m.episodes.find((e) => e.id === 'ep-1')!;
    expect(one.fileKey).toBe(firstKey);
    expect(one.audioUrl).toBe(server.url('/chg/1b.mp3?track=cdn'));
    expect(one.title).toBe('One (remastered title)');
    expect(one.status).toBe('downloaded');
    expect(server.count('/chg/1b.mp3')).toBe(0);
    expect(m.episodes.map((e) => e.id)).toEqual(['ep-1', 'ep-3']);
    expect(run.counts).toMatchObject({ new: 1, downloaded: 1 });
  });

  it('an enclosure that 404s fails its episode only; the next run retries it', async () => {
    const good = fakeMp3(8000, 1);
    serveShow(
      '/e404',
      [
        { title: 'Broken', guid: 'bad', date: '2026-11-09T08:00:00Z', url: server.url('/e404/missing.mp3') },
        { title: 'Fine', guid: 'ok', date: '2026-11-02T08:00:00Z', url: server.url('/e404/ok.mp3') },
      ],
      { 'ok.mp3': good },
    );
    const site = makeSite(root, [{ id: 'show', feedUrl: server.url('/e404/feed.xml') }]);
    const run = await runRss(site, paths, fast, memoryLog());
    expect(run.problems).toHaveLength(1);
    expect(run.problems[0]).toMatchObject({
      site: 'test-site',
      podcast: 'show',
      episode: '"Broken" (bad)',
      file: expect.stringMatching(/^audio\/show\/2026-11-09_broken_[0-9a-f]+\.mp3$/),
      message: expect.stringMatching(/download failed: HTTP 404 Not Found/),
      fix: expect.stringMatching(/tried again on the next run/),
    });
    expect(server.count('/e404/missing.mp3')).toBe(1); // 404 is not retried
    const m = readManifest();
    expect(m.episodes.find((e) => e.id === 'bad')).toMatchObject({ status: 'failed', error: expect.stringMatching(/HTTP 404/) });
    expect(m.episodes.find((e) => e.id === 'ok')).toMatchObject({ status: 'downloaded' });
    expect(run.state!.podcasts.show).toMatchObject({ episodes: 2, downloaded: 1, failed: 1 });

    // Feed unchanged (304), the file appears: the failed episode is retried and recovers.
    server.route('/e404/missing.mp3', { body: fakeMp3(3000, 9) });
    server.resetRequests();
    const next = await runRss(site, paths, fast, memoryLog());
    expect(next.problems).toEqual([]);
    expect(server.requests.map((r) => r.path)).toEqual(['/e404/feed.xml', '/e404/missing.mp3']);
    expect(readManifest().episodes.every((e) => e.status === 'downloaded')).toBe(true);
  });

  it('gives up on an episode that failed in maxFailedRuns runs in a row, until asked to retry', async () => {
    serveShow(
      '/dead',
      [
        { title: 'Dead', guid: 'dead', date: '2026-11-09T08:00:00Z', url: server.url('/dead/gone.mp3') },
        { title: 'Alive', guid: 'alive', date: '2026-11-02T08:00:00Z', url: server.url('/dead/ok.mp3') },
      ],
      { 'ok.mp3': fakeMp3(4000, 2) },
    );
    const site = makeSite(root, [{ id: 'show', feedUrl: server.url('/dead/feed.xml') }]);
    const opts = { ...fast, maxFailedRuns: 2 };
    const first = await runRss(site, paths, opts, memoryLog());
    expect(first.problems).toHaveLength(1);
    expect(first.problems[0].message).not.toMatch(/later runs skip/);
    const second = await runRss(site, paths, opts, memoryLog());
    expect(second.problems).toHaveLength(1);
    expect(second.problems[0]).toMatchObject({ message: expect.stringMatching(/failed in 2 runs in a row: given up\)$/), fix: expect.stringMatching(/later runs skip it; once fixed, run rss with --retryFailed$/) });
    // One piece of advice only: a given-up episode is not "tried again on the next run".
    expect(second.problems[0].fix).not.toMatch(/tried again/);
    expect(readManifest().episodes.find((e) => e.id === 'dead')).toMatchObject({ status: 'failed', failedRuns: 2 });

    // Given up: skipped without a request, and the run no longer fails.
    server.resetRequests();
    const third = await runRss(site, paths, opts, memoryLog());
    expect(third.problems).toEqual([]);
    expect(third.counts).toMatchObject({ givenUp: 1 });
    expect(server.count('/dead/gone.mp3')).toBe(0);

    // The publisher fixed it and the operator asks: it downloads, and the count is reset.
    server.route('/dead/gone.mp3', { body: fakeMp3(3000, 5) });
    const retried = await runRss(site, paths, { ...opts, retryFailed: true }, memoryLog());
    expect(retried.problems).toEqual([]);
    expect(retried.counts).toMatchObject({ downloaded: 1 });
    const dead = readManifest().episodes.find((e) => e.id === 'dead')!;
    expect(dead.status).toBe('downloaded');
    expect(dead.failedRuns).toBeUndefined();
  });

  it('a download cut off mid-way leaves no partial file and the episode failed', async () => {
    server.route('/cut/feed.xml', { body: rssXml([{ title: 'Cut', guid: 'c', date: '2026-11-02T08:00:00Z', url: server.url('/cut/c.mp3') }]) });
    server.route('/cut/c.mp3', { body: fakeMp3(50_000), cutAfter: 20_000 });
    const site = makeSite(root, [{ id: 'show', feedUrl: server.url('/cut/feed.xml') }]);
    const run = await runRss(site, paths, fast, memoryLog());
    expect(run.problems[0].message).toMatch(/was cut off after \d+ of 50000 bytes/);
    expect(server.count('/cut/c.mp3')).toBe(3); // retried
    const rec = readManifest().episodes[0];
    expect(rec.status).toBe('failed');
    expect(readdirSync(path.join(paths.root, 'audio', 'show'))).toEqual([]);
  });

  it.each([
    ['malformed XML', { body: rssXml([{ title: 'x', guid: 'x' }]).replace('</channel>', '') }, /not well-formed XML/, /does not serve a podcast feed/],
    ['an HTML error page', { body: '<!DOCTYPE html><html><body>Oops</body></html>', contentType: 'text/html' }, /HTML page, not a feed/, /does not serve a podcast feed/],
    ['a 404', { status: 404 }, /HTTP 404/, /feed is gone or moved/],
    ['a redirect loop', { redirect: '/bad/feed.xml' }, /redirect loop/, /redirects in a circle/],
    ['a feed that never finishes', { body: '<rss version="2.0"><channel>'.padEnd(4000), stallAfter: 50 }, /timed out/, /failing or slow/],
  ])('%s: clear problem naming site and podcast, previous manifest intact, other podcasts carry on', async (_name, spec, message, fix) => {
    // First a good run for both podcasts.
    serveShow('/bad', [{ title: 'Old', guid: 'old', date: '2026-10-01T00:00:00Z', url: server.url('/bad/old.mp3') }], { 'old.mp3': fakeMp3(2000) });
    serveShow('/other', [{ title: 'Other', guid: 'o', date: '2026-10-01T00:00:00Z', url: server.url('/other/o.mp3') }], { 'o.mp3': fakeMp3(2000, 5) });
    const site = makeSite(root, [
      { id: 'bad', feedUrl: server.url('/bad/feed.xml') },
      { id: 'other', feedUrl: server.url('/other/feed.xml') },
    ]);
    await runRss(site, paths, fast, memoryLog());
    const before = readManifest().episodes.filter((e) => e.podcast === 'bad');
    const rawBefore = readFileSync(paths.rssFile('bad'));

    server.route('/bad/feed.xml', spec as never);
    serveShow(
      '/other',
      [
        { title: 'Other 2', guid: 'o2', date: '2026-10-08T00:00:00Z', url: server.url('/other/o2.mp3') },
        { title: 'Other', guid: 'o', date: '2026-10-01T00:00:00Z', url: server.url('/other/o.mp3') },
      ],
      { 'o2.mp3': fakeMp3(2000, 6) },
    );
    const run = await runRss(site, paths, { ...fast, timeoutSeconds: 0.5, retries: 0 }, memoryLog());
    expect(run.problems).toEqual([{ site: 'test-site', podcast: 'bad', file: 'rss/bad.xml', message: expect.stringMatching(message), fix: expect.stringMatching(fix) }]);
    expect(run.problems[0].message).toContain(server.url('/bad/feed.xml'));
    const after = readManifest();
    expect(after.episodes.filter((e) => e.podcast === 'bad')).toEqual(before);
    expect(readFileSync(paths.rssFile('bad')).equals(rawBefore)).toBe(true);
    expect(after.episodes.filter((e) => e.podcast === 'other').map((e) => [e.id, e.status])).toEqual([
      ['o', 'downloaded'],
      ['o2', 'downloaded'],
    ]);
  });

  it('500 and 503 then success: the feed is read after retries', async () => {
    server.route('/flaky/feed.xml', [{ status: 500 }, { status: 503 }, { body: rssXml([{ title: 'A', guid: 'a', url: server.url('/flaky/a.mp3') }]) }]);
    server.route('/flaky/a.mp3', { body: fakeMp3(1000) });
    const site = makeSite(root, [{ id: 'show', feedUrl: server.url('/flaky/feed.xml') }]);
    const log = memoryLog();
    const run = await runRss(site, paths, fast, log);
    expect(run.problems).toEqual([]);
    expect(run.counts.requests).toBe(3);
    expect(log.lines.filter((l) => /feed attempt \d failed \(HTTP 50[03]/.test(l))).toHaveLength(2);
    expect(readManifest().episodes).toHaveLength(1);
  });

  it('items without guid, duplicate guids, items without enclosure, and unsafe titles', async () => {
    const long = 'A very long title '.repeat(17); // ~300 characters
    serveShow(
      '/odd',
      [
        { title: 'No guid', date: '2026-11-05T00:00:00Z', url: server.url('/odd/noguid.mp3?utm_source=x') },
        { title: 'Dup first', guid: 'same', date: '2026-11-04T00:00:00Z', url: server.url('/odd/dup1.mp3') },
        { title: 'Dup second', guid: 'same', date: '2026-11-03T00:00:00Z', url: server.url('/odd/dup2.mp3') },
        { title: 'Trailer without audio', guid: 'trailer', date: '2026-11-02T00:00:00Z' },
        { title: '../../etc/passwd', guid: 'dots', date: '2026-11-01T00:00:00Z', url: server.url('/odd/dots.mp3') },
        { title: 'AC/DC 🎸🔥 live', guid: 'emoji', date: '2026-10-31T00:00:00Z', url: server.url('/odd/emoji.mp3') },
        { title: long, guid: 'long', date: '2026-10-30T00:00:00Z', url: server.url('/odd/long.mp3') },
        { date: '2026-10-29T00:00:00Z' },
      ],
      Object.fromEntries(['noguid.mp3', 'dup1.mp3', 'dup2.mp3', 'dots.mp3', 'emoji.mp3', 'long.mp3'].map((n, i) => [n, fakeMp3(1000, i)])),
    );
    const site = makeSite(root, [{ id: 'show', feedUrl: server.url('/odd/feed.xml') }]);
    const log = memoryLog();
    const run = await runRss(site, paths, fast, log);
    expect(run.problems).toEqual([]);
    const m = readManifest();
    const byId = Object.fromEntries(m.episodes.map((e) => [e.id, e]));
    expect(Object.keys(byId).sort()).toEqual([server.url('/odd/noguid.mp3'), 'dots', 'emoji', 'long', 'same', 'trailer'].sort());
    expect(byId[server.url('/odd/noguid.mp3')]).toMatchObject({ idSource: 'enclosure', status: 'downloaded' });
    expect(byId.same).toMatchObject({ title: 'Dup first', audioUrl: server.url('/odd/dup1.mp3') });
    expect(server.count('/odd/dup2.mp3')).toBe(0);
    expect(byId.trailer).toMatchObject({ status: 'no-audio' });
    for (const e of m.episodes) expect(e.fileKey).toMatch(/^\d{4}-\d{2}-\d{2}_[a-z0-9-]{1,60}_[0-9a-f]{10}$/);
    expect(byId.dots.fileKey).toMatch(/^2026-11-01_etc-passwd_/);
    expect(byId.emoji.fileKey).toMatch(/^2026-10-31_ac-dc-live_/);
    // Every audio file sits directly in audio/show/.
    expect(readdirSync(path.join(paths.root, 'audio', 'show')).sort()).toEqual(m.episodes.filter((e) => e.audio).map((e) => `${e.fileKey}.mp3`).sort());
    // Reported (not failures): the duplicate, the trailer, the item with nothing to know it by.
    expect(log.lines.filter((l) => l.startsWith('warn: podcast show, episode'))).toEqual([
      expect.stringMatching(/"Dup second" has the same guid as "Dup first"/),
      expect.stringMatching(/"Trailer without audio" has no enclosure/),
      expect.stringMatching(/item #8 has no guid, enclosure or title/),
    ]);
  });

  it('a 3,000-item feed: every episode in the manifest, unique keys, newest downloaded with maxEpisodes', async () => {
    const items: TestItem[] = Array.from({ length: 3000 }, (_, i) => ({
      title: `Episode ${3000 - i}: something`,
      guid: `big-${3000 - i}`,
      date: new Date(Date.UTC(2010, 0, 1) + (3000 - i) * 86_400_000).toISOString(),
      url: server.url(`/big/audio/${3000 - i}.mp3`),
    }));
    server.route('/big/feed.xml', { body: rssXml(items), etag: true });
    server.route('/big/audio/*', { body: fakeMp3(500) });
    const site = makeSite(root, [{ id: 'show', feedUrl: server.url('/big/feed.xml') }]);
    const run = await runRss(site, paths, { ...fast, maxEpisodes: 5 }, memoryLog());
    expect(run.problems).toEqual([]);
    const m = readManifest();
    expect(m.episodes).toHaveLength(3000);
    expect(new Set(m.episodes.map((e) => e.fileKey)).size).toBe(3000);
    expect(m.episodes.filter((e) => e.status === 'downloaded').map((e) => e.id).sort()).toEqual(['big-2996', 'big-2997', 'big-2998', 'big-2999', 'big-3000']);
    expect(server.requests.filter((r) => r.path.startsWith('/big/audio/'))).toHaveLength(5);
  });

  it('since: only episodes on or after the date are downloaded', async () => {
    serveShow(
      '/since',
      [
        { title: 'New', guid: 'n', date: '2026-11-10T00:00:00Z', url: server.url('/since/n.mp3') },
        { title: 'Old', guid: 'o', date: '2026-01-10T00:00:00Z', url: server.url('/since/o.mp3') },
      ],
      { 'n.mp3': fakeMp3(100), 'o.mp3': fakeMp3(100) },
    );
    const site = makeSite(root, [{ id: 'show', feedUrl: server.url('/since/feed.xml') }]);
    const run = await runRss(site, paths, { ...fast, since: '2026-06-01' }, memoryLog());
    expect(run.counts.downloaded).toBe(1);
    expect(readManifest().episodes.map((e) => [e.id, e.status])).toEqual([
      ['o', 'new'],
      ['n', 'downloaded'],
    ]);
    await expect(runRss(site, paths, { ...fast, since: 'last tuesday' }, memoryLog())).rejects.toThrow(/not a date/);
  });

  it('dry run fetches and reports but writes nothing anywhere', async () => {
    serveShow('/dry', [{ title: 'A', guid: 'a', url: server.url('/dry/a.mp3') }], { 'a.mp3': fakeMp3(100) });
    const site = makeSite(root, [{ id: 'show', feedUrl: server.url('/dry/feed.xml') }]);
    const log = memoryLog();
    const run = await runRss(site, paths, { ...fast, dryRun: true }, log);
    expect(run.state).toBeUndefined();
    expect(run.counts).toEqual({ feeds: 1, requests: 1, new: 1, wouldDownload: 1 });
    expect(existsSync(paths.root)).toBe(false);
    expect(server.count('/dry/a.mp3')).toBe(0);
    expect(log.lines.some((l) => /would download audio\/show\/.*\.mp3/.test(l))).toBe(true);
  });

  it('adopts a verified audio file already here (e.g. pulled from the bucket) instead of downloading', async () => {
    const body = fakeMp3(6000, 4);
    serveShow('/adopt', [{ title: 'A', guid: 'a', date: '2026-11-01T00:00:00Z', url: server.url('/adopt/a.mp3') }], { 'a.mp3': body });
    const site = makeSite(root, [{ id: 'show', feedUrl: server.url('/adopt/feed.xml') }]);
    await runRss(site, paths, { ...fast, dryRun: true }, memoryLog());
    // What the file key will be: the same function the run uses.
    const { makeFileKey } = await import('./identity');
    const key = makeFileKey('a', 'A', '2026-11-01T00:00:00.000Z');
    mkdirSync(path.dirname(paths.audioFile('show', key)), { recursive: true });
    writeFileSync(paths.audioFile('show', key), body);
    const run = await runRss(site, paths, fast, memoryLog());
    expect(run.counts).toEqual({ feeds: 1, requests: 1, new: 1, adopted: 1 });
    expect(server.count('/adopt/a.mp3')).toBe(0);
    expect(readManifest().episodes[0]).toMatchObject({ fileKey: key, status: 'downloaded', audio: { size: body.length, sha256: sha(body) } });
  });

  it('a leftover temp file from a killed run is cleaned and the download restarts cleanly', async () => {
    const body = fakeMp3(6000, 7);
    serveShow('/crash', [{ title: 'A', guid: 'a', date: '2026-11-01T00:00:00Z', url: server.url('/crash/a.mp3') }], { 'a.mp3': body });
    const site = makeSite(root, [{ id: 'show', feedUrl: server.url('/crash/feed.xml') }]);
    const { makeFileKey } = await import('./identity');
    const dest = paths.audioFile('show', makeFileKey('a', 'A', '2026-11-01T00:00:00.000Z'));
    mkdirSync(path.dirname(dest), { recursive: true });
    writeFileSync(path.join(path.dirname(dest), `.${path.basename(dest)}.999999999.0badc0de${TEMP_SUFFIX}`), body.subarray(0, 100));
    const run = await runRss(site, paths, fast, memoryLog());
    expect(run.problems).toEqual([]);
    expect(readdirSync(path.dirname(dest))).toEqual([path.basename(dest)]);
    expect(readFileSync(dest).equals(body)).toBe(true);
  });

  it('file: feeds with relative file: enclosures; the URL is recorded as written', async () => {
    const site = makeSite(root, [{ id: 'local', feedUrl: 'file:feed.xml' }]);
    mkdirSync(path.join(site.siteDir, 'media'));
    const body = fakeMp3(4000, 8);
    writeFileSync(path.join(site.siteDir, 'media', 'ep1.mp3'), body);
    writeFileSync(path.join(site.siteDir, 'feed.xml'), rssXml([{ title: 'Local', guid: 'l1', date: '2026-11-01T00:00:00Z', url: 'file:media/ep1.mp3' }]));
    const run = await runRss(site, paths, fast, memoryLog());
    expect(run.problems).toEqual([]);
    const rec = readManifest().episodes[0];
    expect(rec).toMatchObject({ audioUrl: 'file:media/ep1.mp3', status: 'downloaded', audio: { sha256: sha(body) } });
    const before = snapshot(paths.root);
    const again = await runRss(site, paths, fast, memoryLog());
    expect(again.counts).toEqual({ feeds: 1, requests: 1, unchanged: 1 });
    expect(snapshot(paths.root)).toEqual(before);
  });

  it('refuses file: enclosures in a feed served over the network', async () => {
    server.route('/evil/feed.xml', { body: rssXml([{ title: 'Evil', guid: 'e', url: 'file:///etc/hostname' }]) });
    const site = makeSite(root, [{ id: 'show', feedUrl: server.url('/evil/feed.xml') }]);
    const run = await runRss(site, paths, fast, memoryLog());
    expect(run.problems[0].message).toMatch(/points at a local file; refused/);
  });

  it('an unreadable manifest is left intact and the run stops with a clear message', async () => {
    mkdirSync(path.dirname(paths.manifestFile), { recursive: true });
    writeFileSync(paths.manifestFile, '{"version":1, "episodes": [');
    server.route('/m/feed.xml', { body: rssXml([]) });
    const site = makeSite(root, [{ id: 'show', feedUrl: server.url('/m/feed.xml') }]);
    await expect(runRss(site, paths, fast, memoryLog())).rejects.toThrow(/full-episode-manifest\.json is not valid JSON .*left as is/);
    expect(readFileSync(paths.manifestFile, 'utf8')).toBe('{"version":1, "episodes": [');
    expect(server.count()).toBe(0);
  });

  it('an empty feed is also asked conditionally the second time', async () => {
    server.route('/empty/feed.xml', { body: rssXml([]), etag: true });
    const site = makeSite(root, [{ id: 'show', feedUrl: server.url('/empty/feed.xml') }]);
    await runRss(site, paths, fast, memoryLog());
    expect(readManifest().episodes).toEqual([]);
    await runRss(site, paths, fast, memoryLog());
    expect(server.requests.map((r) => r.status)).toEqual([200, 304]);
  });

  it('inactive podcasts are not fetched and keep their records', async () => {
    const site = makeSite(root, [{ id: 'off', feedUrl: server.url('/off/feed.xml'), active: false }]);
    const run = await runRss(site, paths, fast, memoryLog());
    expect(run.counts.feeds).toBe(0);
    expect(server.count()).toBe(0);
  });
});
