import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { SitePaths, type EpisodeManifest, type SiteConfig } from '@podline/config';
import { fakeMp3, startFeedServer, type FeedServer } from '@podline/testing/http-feed-server';
import { runRss, type RssLogger } from './sync';
import { rssXml } from './test-feeds';
import { failWrites } from '@podline/testing/disk-faults';

/**
 * A full, read-only or forbidden disk is this machine's trouble, not the publisher's: rss stops with the path and
 * what to do, and never counts the failure against an episode (so it is not given up on after three runs).
 * No small file system can be mounted by an unprivileged test, so the error is injected at the write.
 */

jest.mock('node:fs', () => require('@podline/testing/disk-faults').fsWithFailingWrites(jest.requireActual('node:fs')));

describe('rss on a full disk', () => {
  let server: FeedServer;
  beforeAll(async () => {
    server = await startFeedServer();
  });
  afterAll(() => server.close());
  afterEach(() => failWrites(undefined));

  it.each(['ENOSPC', 'EROFS', 'EACCES'])('%s stops the downloads with the path and the fix; no episode is blamed or given up on', async (code) => {
    const root = mkdtempSync(path.join(tmpdir(), 'feeds-disk-'));
    const paths = new SitePaths('disk', root, {});
    const site: SiteConfig = {
      id: 'disk',
      title: 'disk',
      siteDir: path.join(root, 'sites', 'disk'),
      configFile: path.join(root, 'sites', 'disk', 'site.config.json'),
      podcasts: [{ id: 'show', title: 'Show', feedUrl: server.url(`/${code}/feed.xml`), active: true }],
      storage: { kind: 'local' },
      transcription: { engine: 'whisper', model: 'base.en', language: 'en', usePublisherTranscripts: true },
      network: { allowPrivateAddresses: true }, // the feed server is on 127.0.0.1
      index: { kind: 'local' },
    };
    server.route(`/${code}/feed.xml`, {
      body: rssXml([1, 2, 3].map((n) => ({ title: `Ep ${n}`, guid: `g${n}`, date: `2026-11-0${n}T00:00:00Z`, url: server.url(`/${code}/${n}.mp3`) }))),
    });
    server.route(`/${code}/*`, { body: fakeMp3(20_000, 2), contentType: 'audio/mpeg' });
    const log: RssLogger = { info: () => undefined, warn: () => undefined, debug: () => undefined, progress: () => undefined };
    const opts = { timeoutSeconds: 2, retries: 2, retryBaseMs: 1, concurrency: 1, maxFailedRuns: 3 };

    failWrites(code);
    for (let run = 0; run < 4; run++) {
      const out = await runRss(site, paths, opts, log);
      expect(out.problems).toEqual([
        {
          site: 'disk',
          file: expect.stringMatching(/^audio\/show\//),
          message: expect.stringMatching(new RegExp(`^downloads stopped: .*\\(${code} at .*audio/show/.*\\.mp3\\); 3 episode\\(s\\) not downloaded \\(not counted against them\\)$`)),
          fix: expect.stringMatching(/then run again$/),
        },
      ]);
      expect(out.counts.failed ?? 0).toBe(0);
    }
    const manifest = (): EpisodeManifest => JSON.parse(readFileSync(paths.manifestFile, 'utf8'));
    expect(manifest().episodes.map((e) => [e.status, e.failedRuns])).toEqual([
      ['new', undefined],
      ['new', undefined],
      ['new', undefined],
    ]);
    expect(readdirSync(path.join(paths.root, 'audio', 'show'))).toEqual([]); // no temp files left

    // Space freed: everything arrives on the next plain run (nothing was given up on).
    failWrites(undefined);
    const freed = await runRss(site, paths, opts, log);
    expect(freed.problems).toEqual([]);
    expect(freed.counts.downloaded).toBe(3);
  });
});
