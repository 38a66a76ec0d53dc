import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { SitePaths, type EpisodeManifest, type PodcastConfig, type SiteConfig } from '@podline/config';
import { fakeMp3, startFeedServer, type FeedServer } from '@podline/testing/http-feed-server';
import { makeFileKey } from './identity';
import { runRss, type RssLogger, type RssOptions } from './sync';
import { rssXml } from './test-feeds';

/** Feeds as real publishers write them, and hosts that misbehave: each case of "real feeds as they are". */

function makeSite(root: string, podcasts: Array<Omit<PodcastConfig, 'title'>>): SiteConfig {
  const siteDir = path.join(root, 'sites', 'test-site');
  mkdirSync(siteDir, { recursive: true });
  return {
    id: 'test-site',
    title: 'Test',
    siteDir,
    configFile: path.join(siteDir, 'site.config.json'),
    podcasts: podcasts.map((p) => ({ ...p, title: p.id, active: p.active ?? true })),
    storage: { kind: 'local' },
    transcription: { engine: 'whisper', model: 'base.en', language: 'en', usePublisherTranscripts: true },
    // The feeds and enclosures of these tests are served on 127.0.0.1.
    network: { allowPrivateAddresses: true },
    index: { kind: 'local' },
  };
}

function memoryLog(): RssLogger & { lines: string[]; warnings: () => string[] } {
  const lines: string[] = [];
  return {
    lines,
    warnings: () => lines.filter((l) => l.startsWith('warn: ')).map((l) => l.slice(6)),
    info: (m) => lines.push(m),
    warn: (m) => lines.push(`warn: ${m}`),
    debug: () => undefined,
    progress: (m) => lines.push(m),
  };
}

/** The first bytes of an MP4 video (ftyp, QuickTime brand) followed by filler. */
function fakeVideo(size: number): Buffer {
  const out = Buffer.alloc(size, 7);
  Buffer.from([0, 0, 0, 0x14]).copy(out, 0);
  Buffer.from('ftypqt  ', 'latin1').copy(out, 4);
  return out;
}

describe('rss on real-world feeds (127.0.0.1)', () => {
  let server: FeedServer;
  let root: string;
  let paths: SitePaths;
  const fast: RssOptions = { timeoutSeconds: 2, retries: 2, retryBaseMs: 1, concurrency: 3 };
  const manifest = (): EpisodeManifest => JSON.parse(readFileSync(paths.manifestFile, 'utf8'));

  beforeAll(async () => {
    server = await startFeedServer();
  });
  afterAll(() => server.close());
  beforeEach(() => {
    server.resetRequests();
    root = mkdtempSync(path.join(tmpdir(), 'feeds-real-'));
    paths = new SitePaths('test-site', root, {});
  });

  it('Atom: enclosure links are downloaded, and a retitled entry stays one episode (its <id>)', async () => {
    const atom = (title: string) => `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom</title>
<entry><id>urn:uuid:entry-1</id><title>${title}</title><published>2026-11-02T08:00:00Z</published>
<link rel="enclosure" type="audio/mpeg" href="${server.url('/atom/1.mp3')}"/></entry>
</feed>`;
    server.route('/atom/feed.xml', { body: atom('First title'), contentType: 'application/atom+xml' });
    server.route('/atom/1.mp3', { body: fakeMp3(5000), contentType: 'audio/mpeg' });
    const site = makeSite(root, [{ id: 'show', feedUrl: server.url('/atom/feed.xml') }]);
    const first = await runRss(site, paths, fast, memoryLog());
    expect(first.problems).toEqual([]);
    expect(first.counts).toMatchObject({ new: 1, downloaded: 1 });
    server.route('/atom/feed.xml', { body: atom('A better title'), contentType: 'application/atom+xml' });
    const second = await runRss(site, paths, fast, memoryLog());
    expect(second.counts.new).toBeUndefined();
    expect(manifest().episodes.map((e) => [e.id, e.idSource, e.title, e.status])).toEqual([['urn:uuid:entry-1', 'guid', 'A better title', 'downloaded']]);
  });

  it('video: a video-only item is recorded as video and not fetched; with includeVideo it keeps its extension; a video served for audio is refused', async () => {
    server.route('/vid/feed.xml', {
      body: rssXml([
        { title: 'Video only', guid: 'v', date: '2026-11-02T08:00:00Z', url: server.url('/vid/v.mp4'), type: 'video/mp4' },
        { title: 'Says audio', guid: 'a', date: '2026-11-03T08:00:00Z', url: server.url('/vid/a.mp3'), type: 'audio/mpeg' },
        { title: 'Error page', guid: 'h', date: '2026-11-04T08:00:00Z', url: server.url('/vid/h.mp3'), type: 'audio/mpeg' },
      ]),
    });
    server.route('/vid/v.mp4', { body: fakeVideo(4000), contentType: 'video/mp4' });
    server.route('/vid/a.mp3', { body: fakeVideo(4000), contentType: 'video/quicktime' });
    server.route('/vid/h.mp3', { body: '<html><body>Not found</body></html>'.padEnd(200), contentType: 'text/html' });
    const site = makeSite(root, [{ id: 'show', feedUrl: server.url('/vid/feed.xml') }]);
    const log = memoryLog();
    const run = await runRss(site, paths, fast, log);
    expect(server.count('/vid/v.mp4')).toBe(0);
    expect(run.counts).toMatchObject({ new: 3, video: 1, failed: 2 });
    expect(log.warnings()).toContain('podcast show, episode "Video only" has only a video enclosure (video/mp4): recorded as video and not downloaded; set "includeVideo": true on the podcast in site.config.json to transcribe its audio');
    const byId = Object.fromEntries(manifest().episodes.map((e) => [e.id, e]));
    expect(byId.v.status).toBe('video');
    expect(run.problems.map((p) => [p.episode, p.message, p.fix]).sort((a, b) => String(b[0]).localeCompare(String(a[0])))).toEqual([
      ['"Says audio" (a)', `download failed: ${server.url('/vid/a.mp3')} is not audio (served video/quicktime)`, expect.stringMatching(/^the enclosure is a video: to transcribe its audio set "includeVideo": true on podcast show/)],
      ['"Error page" (h)', `download failed: ${server.url('/vid/h.mp3')} is not audio (served text/html)`, expect.stringMatching(/does not serve audio/)],
    ]);
    expect(readdirSync(path.join(paths.root, 'audio', 'show'))).toEqual([]);

    const withVideo = makeSite(root, [{ id: 'show', feedUrl: server.url('/vid/feed.xml'), includeVideo: true }]);
    server.route('/vid/feed.xml', { body: rssXml([{ title: 'Video only', guid: 'v', date: '2026-11-02T08:00:00Z', url: server.url('/vid/v.mp4'), type: 'video/mp4' }]) });
    const again = await runRss(withVideo, paths, fast, memoryLog());
    const v = manifest().episodes.find((e) => e.id === 'v')!;
    expect(again.counts).toMatchObject({ downloaded: 1 });
    expect(v).toMatchObject({ status: 'downloaded', audio: { key: `audio/show/${v.fileKey}.mp4` } });
    expect(readdirSync(path.join(paths.root, 'audio', 'show'))).toEqual([`${v.fileKey}.mp4`]);
  });

  it('a video already at an audio key (say, pulled from the bucket) is not adopted as the episode', async () => {
    server.route('/adopt/feed.xml', { body: rssXml([{ title: 'Audio', guid: 'a', date: '2026-11-02T08:00:00Z', url: server.url('/adopt/a.mp3') }]) });
    server.route('/adopt/a.mp3', { body: fakeMp3(3000), contentType: 'audio/mpeg' });
    const site = makeSite(root, [{ id: 'show', feedUrl: server.url('/adopt/feed.xml') }]);
    const file = paths.audioFile('show', makeFileKey('a', 'Audio', '2026-11-02T08:00:00.000Z'));
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, fakeVideo(3000));
    const log = memoryLog();
    const run = await runRss(site, paths, fast, log);
    expect(run.counts).toMatchObject({ downloaded: 1 });
    expect(run.counts.adopted).toBeUndefined();
    expect(log.warnings().some((w) => /exists but does not match; downloading it again/.test(w))).toBe(true);
    expect(readFileSync(file).equals(fakeMp3(3000))).toBe(true);
  });

  it('guid-less items behind a prefix redirect are one episode each; a record made under the old rule keeps its id', async () => {
    const url = (n: number) => `${server.url('/track/redirect.mp3')}?${server.url(`/host/show/ep-${n}.mp3`)}`;
    server.route('/track/redirect.mp3', { body: fakeMp3(3000), contentType: 'audio/mpeg' });
    const items = [14, 13, 12].map((n) => ({ title: `Ep ${n}`, date: `2026-11-${n}T08:00:00Z`, url: url(n) }));
    server.route('/pr/feed.xml', { body: rssXml(items) });
    // What the old rule made of this feed: one record for all items, id = the tracker URL without query.
    mkdirSync(path.dirname(paths.manifestFile), { recursive: true });
    const collapsed = { id: server.url('/track/redirect.mp3'), idSource: 'enclosure', podcast: 'show', fileKey: '2026-11-14_ep-14_0123456789', title: 'Ep 14', audioUrl: url(14), status: 'new' };
    writeFileSync(paths.manifestFile, JSON.stringify({ version: 1, site: 'test-site', episodes: [collapsed] }));
    const site = makeSite(root, [{ id: 'show', feedUrl: server.url('/pr/feed.xml') }]);
    const run = await runRss(site, paths, { ...fast, maxEpisodes: 0 }, memoryLog());
    expect(run.problems).toEqual([]);
    expect(manifest().episodes.map((e) => [e.id, e.title])).toEqual(
      expect.arrayContaining([
        [server.url('/track/redirect.mp3'), 'Ep 14'],
        [server.url('/host/show/ep-13.mp3'), 'Ep 13'],
        [server.url('/host/show/ep-12.mp3'), 'Ep 12'],
      ]),
    );
    expect(manifest().episodes).toHaveLength(3);
    expect(manifest().episodes.find((e) => e.title === 'Ep 14')!.fileKey).toBe('2026-11-14_ep-14_0123456789');
    expect(run.counts).toMatchObject({ new: 2, downloaded: 3 });
  });

  it('counts mean one thing each: items without audio are noAudio (once), duplicates are duplicates', async () => {
    server.route('/cnt/feed.xml', {
      body: rssXml([
        { title: 'Text post', guid: 't' },
        { title: 'Dup A', guid: 'd', url: server.url('/cnt/d.mp3') },
        { title: 'Dup B', guid: 'd', url: server.url('/cnt/d.mp3') },
      ]),
    });
    server.route('/cnt/d.mp3', { body: fakeMp3(2000) });
    const site = makeSite(root, [{ id: 'show', feedUrl: server.url('/cnt/feed.xml') }]);
    const run = await runRss(site, paths, fast, memoryLog());
    expect(run.counts).toEqual({ feeds: 1, requests: 1, new: 2, noAudio: 1, duplicates: 1, downloaded: 1, bytes: 2000 });
    server.route('/cnt/feed.xml', { body: rssXml([{ title: 'Text post', guid: 't' }, { title: 'Dup A', guid: 'd', url: server.url('/cnt/d.mp3') }, { title: 'New', guid: 'n' }]) });
    const again = await runRss(site, paths, fast, memoryLog());
    expect(again.counts).toMatchObject({ new: 1, noAudio: 1 });
  });

  it('itunes:new-feed-url and a permanent redirect are remembered and used on later runs, with the fix', async () => {
    const xml = rssXml([{ title: 'One', guid: '1' }]);
    server.route('/old/feed.xml', { body: xml.replace('<link>', `<itunes:new-feed-url>${server.url('/new/feed.xml')}</itunes:new-feed-url><link>`) });
    server.route('/new/feed.xml', { status: 301, redirect: '/newest/feed.xml' });
    server.route('/newest/feed.xml', { body: xml, etag: true });
    const site = makeSite(root, [{ id: 'show', feedUrl: server.url('/old/feed.xml') }]);
    const log = memoryLog();
    await runRss(site, paths, fast, log);
    expect(log.warnings()).toContain(`podcast show: the feed moved to ${server.url('/new/feed.xml')} (itunes:new-feed-url); later runs read it there. Fix: set podcasts[].feedUrl of "show" in site.config.json to ${server.url('/new/feed.xml')}`);
    server.resetRequests();
    const log2 = memoryLog();
    await runRss(site, paths, fast, log2);
    expect(server.requests.map((r) => r.path)).toEqual(['/new/feed.xml', '/newest/feed.xml']);
    expect(log2.warnings()).toContain(`podcast show: the feed moved to ${server.url('/newest/feed.xml')} (permanent redirect); later runs read it there. Fix: set podcasts[].feedUrl of "show" in site.config.json to ${server.url('/newest/feed.xml')}`);
    server.resetRequests();
    const log3 = memoryLog();
    await runRss(site, paths, fast, log3);
    expect(server.requests.map((r) => r.path)).toEqual(['/newest/feed.xml']);
    expect(log3.warnings()[0]).toMatch(/reading the feed from .*\/newest\/feed\.xml, where it moved .*fix: set podcasts\[\]\.feedUrl of "show" to/);
  });

  it('a feed host that stalls after the headers costs at most the feed deadline; other podcasts carry on', async () => {
    server.route('/stall/feed.xml', { body: '<rss version="2.0"><channel>'.padEnd(5000), stallAfter: 0 });
    server.route('/ok/feed.xml', { body: rssXml([{ title: 'Fine', guid: 'f' }]) });
    const site = makeSite(root, [
      { id: 'stalled', feedUrl: server.url('/stall/feed.xml') },
      { id: 'fine', feedUrl: server.url('/ok/feed.xml') },
    ]);
    const started = Date.now();
    const run = await runRss(site, paths, { ...fast, timeoutSeconds: 0.5, feedDeadlineSeconds: 0.8, retries: 3 }, memoryLog());
    const took = Date.now() - started;
    expect(took).toBeLessThan(800 + 700);
    expect(server.count('/stall/feed.xml')).toBe(2); // a timeout is retried once, not three times
    expect(run.problems).toEqual([expect.objectContaining({ podcast: 'stalled', message: expect.stringMatching(/timed out/), fix: expect.stringMatching(/tried again on the next run/) })]);
    expect(manifest().episodes.map((e) => e.id)).toEqual(['f']);
  });

  it('enclosures that stall mid-body: a run ends within its deadline; what is left is deferred, not failed', async () => {
    const items = Array.from({ length: 8 }, (_, i) => ({ title: `E${i}`, guid: `e${i}`, date: `2026-11-0${i + 1}T08:00:00Z`, url: server.url(`/slow/${i}.mp3`) }));
    server.route('/slow/feed.xml', { body: rssXml(items) });
    server.route('/slow/*', { body: fakeMp3(50_000), stallAfter: 1000 });
    const site = makeSite(root, [{ id: 'show', feedUrl: server.url('/slow/feed.xml') }]);
    const started = Date.now();
    const log = memoryLog();
    const run = await runRss(site, paths, { ...fast, timeoutSeconds: 5, deadlineSeconds: 1, concurrency: 2 }, log);
    const took = Date.now() - started;
    expect(took).toBeLessThan(1000 + 700);
    expect(run.counts).toMatchObject({ deferred: 8 });
    expect(run.problems).toEqual([]);
    expect(log.warnings()).toContain('the run reached its deadline (1 s, --deadlineSeconds): 8 download(s) are left for the next run');
    expect(manifest().episodes.every((e) => e.status === 'new' && e.failedRuns === undefined)).toBe(true);
    expect(readdirSync(path.join(paths.root, 'audio', 'show')).filter((n) => !n.startsWith('.'))).toEqual([]);
  });

  it('a host whose downloads keep timing out gets no more of this run', async () => {
    const items = Array.from({ length: 6 }, (_, i) => ({ title: `E${i}`, guid: `e${i}`, date: `2026-11-0${i + 1}T08:00:00Z`, url: server.url(`/dead-host/${i}.mp3`) }));
    server.route('/dh/feed.xml', { body: rssXml(items) });
    server.route('/dead-host/*', { body: fakeMp3(50_000), stallAfter: 100 });
    const site = makeSite(root, [{ id: 'show', feedUrl: server.url('/dh/feed.xml') }]);
    const log = memoryLog();
    const run = await runRss(site, paths, { ...fast, timeoutSeconds: 0.3, retries: 3, concurrency: 2 }, log);
    // Two timed out (a third may already have started); the rest are not even tried.
    expect(run.counts.failed + run.counts.deferred).toBe(6);
    expect(run.counts.deferred).toBeGreaterThanOrEqual(3);
    expect(server.count()).toBe(1 + 2 * run.counts.failed); // each timed-out download tried twice (one retry of a timeout)
    expect(log.warnings()).toContain(`${new URL(server.origin).host} timed out 2 times: its other ${run.counts.deferred} download(s) are left for the next run`);
  });

  it('an enclosure over the podcast maximum is refused with the setting to change', async () => {
    server.route('/big/feed.xml', { body: rssXml([{ title: 'Huge', guid: 'h', url: server.url('/big/h.mp3') }]) });
    server.route('/big/h.mp3', { generate: 3e6 });
    const site = makeSite(root, [{ id: 'show', feedUrl: server.url('/big/feed.xml'), maxAudioMB: 1 }]);
    const run = await runRss(site, paths, fast, memoryLog());
    expect(run.problems).toEqual([expect.objectContaining({ message: expect.stringMatching(/is 3 MB, larger than 1 MB; refused/), fix: expect.stringMatching(/raise "maxAudioMB" of podcast show/) })]);
    expect(server.count('/big/h.mp3')).toBe(1);
  });

  it('a feed over the size cap is refused with the option to change', async () => {
    server.route('/huge/feed.xml', { body: rssXml(Array.from({ length: 400 }, (_, i) => ({ title: `Episode ${i}`, guid: `g${i}` }))) });
    const site = makeSite(root, [{ id: 'show', feedUrl: server.url('/huge/feed.xml') }]);
    const run = await runRss(site, paths, { ...fast, maxFeedMB: 0.01 }, memoryLog());
    expect(run.problems).toEqual([expect.objectContaining({ podcast: 'show', message: expect.stringMatching(/is larger than 0.01 MB; refused/), fix: expect.stringMatching(/^raise --maxFeedMB/) })]);
    expect(server.count('/huge/feed.xml')).toBe(1);
  });

  it('a hostile manifest record (fileKey ../../x) is skipped with the file and the fix; rss carries on', async () => {
    mkdirSync(path.dirname(paths.manifestFile), { recursive: true });
    const hostile = { id: 'evil', idSource: 'guid', podcast: 'show', fileKey: '../../x', title: 'Evil\u001b[31m', status: 'new', audioUrl: server.url('/h/x.mp3') };
    writeFileSync(paths.manifestFile, JSON.stringify({ version: 1, site: 'test-site', episodes: [hostile] }));
    server.route('/h/feed.xml', { body: rssXml([{ title: 'Good', guid: 'g', url: server.url('/h/g.mp3') }]) });
    server.route('/h/g.mp3', { body: fakeMp3(2000) });
    const site = makeSite(root, [{ id: 'show', feedUrl: server.url('/h/feed.xml') }]);
    const log = memoryLog();
    const run = await runRss(site, paths, fast, log);
    expect(run.problems).toEqual([]);
    expect(run.counts).toMatchObject({ downloaded: 1, unsafeRecords: 1 });
    expect(log.warnings()[0]).toBe(
      `${paths.manifestFile}: skipped the record "Evil" (evil) of podcast show: its file key "../../x" is not a plain file name. Fix: remove that record from the manifest (and from the bucket's copy, episode-manifest/full-episode-manifest.json), then run rss again to re-create it from the feed`,
    );
    expect(server.count('/h/x.mp3')).toBe(0);
    expect(manifest().episodes.map((e) => e.fileKey)).toContain('../../x'); // left as it was, never deleted
  });
});
