import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { SitePaths, type EpisodeManifest, type SiteConfig } from '@podline/config';
import { fakeMp3, startFeedServer, type FeedServer } from '@podline/testing/http-feed-server';
import { openUrl } from './http';
import { runRss, type RssLogger } from './sync';
import { rssXml } from './test-feeds';
import { checkUntrustedUrl, isNonPublicAddress, untrustedUrlPolicy } from './url-policy';

describe('isNonPublicAddress', () => {
  it.each(['127.0.0.1', '127.255.0.9', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1', '255.255.255.255', '::1', '::', 'fe80::1', 'fd00::1', 'fc12::3', '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:169.254.169.254', 'ff02::1', 'not-an-ip'])(
    'refuses %s',
    (ip) => expect(isNonPublicAddress(ip)).toBe(true),
  );
  it.each(['93.184.216.34', '8.8.8.8', '172.32.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])('accepts %s', (ip) => expect(isNonPublicAddress(ip)).toBe(false));
});

describe('checkUntrustedUrl', () => {
  const strict = { allowPrivateAddresses: false };
  it('allows http(s) to public hosts; refuses other schemes, file:, and IP literals of private hosts', () => {
    expect(() => checkUntrustedUrl(new URL('https://cdn.example.com/a.mp3'), strict)).not.toThrow();
    expect(() => checkUntrustedUrl(new URL('ftp://example.com/a.mp3'), strict)).toThrow(/uses ftp:, which Podline does not fetch/);
    expect(() => checkUntrustedUrl(new URL('file:///etc/passwd'), strict)).toThrow(/points at a local file; refused/);
    expect(() => checkUntrustedUrl(new URL('http://[::1]:8080/x'), strict)).toThrow(/points at ::1, a loopback, private or link-local address; refused/);
    expect(() => checkUntrustedUrl(new URL('http://2130706433/x'), strict)).toThrow(/127\.0\.0\.1/); // decimal form of 127.0.0.1
    expect(() => checkUntrustedUrl(new URL('http://127.0.0.1/x'), { allowPrivateAddresses: true })).not.toThrow();
  });

  it('a file: feed may link files in its folder, not outside it, not through a symlink out of it', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'policy-'));
    mkdirSync(path.join(dir, 'site', 'media'), { recursive: true });
    writeFileSync(path.join(dir, 'site', 'media', 'a.mp3'), 'x');
    writeFileSync(path.join(dir, 'outside.mp3'), 'x');
    symlinkSync(path.join(dir, 'outside.mp3'), path.join(dir, 'site', 'media', 'link.mp3'));
    const policy = untrustedUrlPolicy({}, `file://${path.join(dir, 'site', 'feed.xml')}`);
    expect(policy).toEqual({ allowPrivateAddresses: false, localRoot: path.join(dir, 'site') });
    expect(() => checkUntrustedUrl(new URL(`file://${path.join(dir, 'site', 'media', 'a.mp3')}`), policy)).not.toThrow();
    expect(() => checkUntrustedUrl(new URL(`file://${path.join(dir, 'outside.mp3')}`), policy)).toThrow(/outside the feed's folder/);
    expect(() => checkUntrustedUrl(new URL(`file://${path.join(dir, 'site', 'media', 'link.mp3')}`), policy)).toThrow(/outside the feed's folder/);
    // A redirect never lands on a file, whoever's feed it is.
    expect(() => checkUntrustedUrl(new URL(`file://${path.join(dir, 'site', 'media', 'a.mp3')}`), policy, true)).toThrow(/a redirect to the local file/);
  });
});

describe('feeds served on 127.0.0.1: enclosures are untrusted, the feed URL is the operator\'s', () => {
  let server: FeedServer;
  let root: string;
  let paths: SitePaths;
  const fast = { timeoutSeconds: 2, retries: 1, retryBaseMs: 1, concurrency: 2 };
  beforeAll(async () => {
    server = await startFeedServer();
  });
  afterAll(() => server.close());
  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), 'policy-run-'));
    paths = new SitePaths('test-site', root, {});
  });

  const site = (feedUrl: string, allowPrivateAddresses?: boolean): SiteConfig => ({
    id: 'test-site',
    title: 'Test',
    siteDir: path.join(root, 'sites', 'test-site'),
    configFile: path.join(root, 'sites', 'test-site', 'site.config.json'),
    podcasts: [{ id: 'show', title: 'Show', feedUrl, active: true }],
    storage: { kind: 'local' },
    transcription: { engine: 'whisper', model: 'base.en', language: 'en', usePublisherTranscripts: true },
    ...(allowPrivateAddresses === undefined ? {} : { network: { allowPrivateAddresses } }),
    index: { kind: 'local' },
  });
  const log = (): RssLogger & { lines: string[] } => {
    const lines: string[] = [];
    return { lines, info: (m) => lines.push(m), warn: (m) => lines.push(`warn: ${m}`), debug: () => undefined, progress: () => undefined };
  };
  const manifest = (): EpisodeManifest => JSON.parse(readFileSync(paths.manifestFile, 'utf8'));

  it('without the setting, an enclosure on a loopback host is refused and named; with it, downloaded', async () => {
    const audio = fakeMp3(5000, 4);
    server.route('/p/feed.xml', { body: rssXml([{ title: 'Ep', guid: 'g1', date: '2026-11-01T00:00:00Z', url: server.url('/p/1.mp3') }]) });
    server.route('/p/1.mp3', { body: audio, contentType: 'audio/mpeg' });
    server.resetRequests();
    const refused = await runRss(site(server.url('/p/feed.xml')), paths, fast, log());
    // The operator's own feed URL is fetched (it is in the trusted config); the enclosure it names is not.
    expect(server.count('/p/feed.xml')).toBe(1);
    expect(server.count('/p/1.mp3')).toBe(0);
    expect(refused.problems).toEqual([
      expect.objectContaining({
        file: expect.stringMatching(/^audio\/show\//),
        message: expect.stringMatching(/download failed: http:\/\/127\.0\.0\.1:\d+\/p\/1\.mp3 points at 127\.0\.0\.1, a loopback, private or link-local address; refused/),
        fix: expect.stringMatching(/"network": \{"allowPrivateAddresses": true\}/),
      }),
    ]);
    expect(readdirSync(path.join(paths.root, 'audio', 'show'))).toEqual([]);
    const allowed = await runRss(site(server.url('/p/feed.xml'), true), paths, fast, log());
    expect(allowed.problems).toEqual([]);
    expect(manifest().episodes[0]).toMatchObject({ status: 'downloaded' });
  });

  it('a feed redirecting to a file, an enclosure redirecting to a file, and a file: enclosure are all refused', async () => {
    const secret = path.join(root, 'secret.mp3');
    writeFileSync(secret, fakeMp3(3000, 9));
    server.route('/r/feed.xml', { redirect: `file://${secret}` });
    const feedRun = await runRss(site(server.url('/r/feed.xml'), true), paths, fast, log());
    expect(feedRun.problems).toEqual([expect.objectContaining({ file: 'rss/show.xml', message: expect.stringMatching(/a redirect to the local file file:\/\/.*secret\.mp3; refused/) })]);
    expect(existsSync(paths.rssFile('show'))).toBe(false);

    server.route('/e/feed.xml', {
      body: rssXml([
        { title: 'Via redirect', guid: 'r1', date: '2026-11-02T00:00:00Z', url: server.url('/e/redirect.mp3') },
        { title: 'Direct', guid: 'r2', date: '2026-11-01T00:00:00Z', url: `file://${secret}` },
      ]),
    });
    server.route('/e/redirect.mp3', { redirect: `file://${secret}` });
    const encRun = await runRss(site(server.url('/e/feed.xml'), true), paths, fast, log());
    expect(encRun.problems.map((p) => p.message).sort()).toEqual([
      expect.stringMatching(/^download failed: a redirect to the local file file:\/\/.*secret\.mp3; refused/),
      expect.stringMatching(/^download failed: file:\/\/.*secret\.mp3 points at a local file; refused/),
    ]);
    // Nothing of the secret reached the data folder.
    expect(readdirSync(path.join(paths.root, 'audio', 'show'))).toEqual([]);
  });

  it('a redirect from the operator\'s feed URL to a private host is checked like any untrusted URL', async () => {
    server.route('/to-private/feed.xml', { redirect: 'http://169.254.169.254/latest/meta-data/' });
    const run = await runRss(site(server.url('/to-private/feed.xml')), paths, fast, log());
    expect(run.problems).toEqual([expect.objectContaining({ message: expect.stringMatching(/169\.254\.169\.254\/latest\/meta-data\/ points at 169\.254\.169\.254, a loopback, private or link-local address; refused/) })]);
  });

  it('openUrl without a policy is the operator\'s own URL: loopback is fine, redirects to files are not', async () => {
    server.route('/own.xml', { body: '<rss/>' });
    await expect(openUrl(server.url('/own.xml')).then((r) => r.status)).resolves.toBe(200);
    await expect(openUrl(server.url('/own.xml'), { policy: { allowPrivateAddresses: false } })).rejects.toThrow(/refused/);
  });
});
