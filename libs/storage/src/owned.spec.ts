/**
 * Files Podline owns (the episode manifest, saved feeds, the index's products) follow their content into the
 * bucket, the manifest merged; user media keep the operator's conflict mode. Real feeds on loopback, the real
 * `rss` step, both backends (the S3-compatible server and the local-folder bucket), two machines.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { keys, MANIFEST_KEY, SitePaths, stableStringify, type EpisodeManifest } from '@podline/config';
import { runRss } from '@podline/feeds';
import { indexSite, S3ObjectStore, searchIndex } from '@podline/search-index';
import { fakeMp3, startFeedServer, type FeedServer } from '@podline/testing/http-feed-server';
import { S3_TEST_CREDENTIALS } from '@podline/testing/s3-server';
import { getObject, makeSite, testLog, useS3, writeTree, type TestSite } from './spec-fixtures';
import { preSync, uploadSite } from './sync';
import type { SyncContext } from './sync';

const s3 = useS3('owned');
let feeds: FeedServer;
beforeAll(async () => {
  feeds = await startFeedServer();
});
afterAll(() => feeds?.close());

let feedCount = 0;

/** Serve a feed of episodes `ns` (guids ep-<n>) at a fresh path; returns its URL. */
function serveFeed(feedPath: string, ns: number[]): string {
  const items = ns
    .map((n) => {
      feeds.route(`${feedPath}/ep${n}.mp3`, { body: fakeMp3(3000 + n, n) });
      return `<item><title>Episode ${n}</title><guid>ep-${n}</guid><pubDate>Mon, ${String(n).padStart(2, '0')} Nov 2026 08:00:00 GMT</pubDate>
        <enclosure url="${feeds.url(`${feedPath}/ep${n}.mp3`)}" type="audio/mpeg" length="${3000 + n}"/></item>`;
    })
    .join('\n');
  feeds.route(`${feedPath}.xml`, { body: `<?xml version="1.0"?><rss version="2.0"><channel><title>Show</title>${items}</channel></rss>`, contentType: 'application/rss+xml', etag: true });
  return feeds.url(`${feedPath}.xml`);
}

/** The same site on a second machine: its own workspace and data folder, the same config and bucket. */
function secondMachine(first: TestSite): TestSite {
  const workspaceRoot = mkdtempSync(path.join(os.tmpdir(), 'podline-machine-b-'));
  const paths = new SitePaths(first.site.id, workspaceRoot, first.env);
  const log = testLog();
  return {
    ...first,
    workspaceRoot,
    paths,
    log,
    ctx: (extra = {}) => ({ ...first.ctx(), paths, workspaceRoot, log, ...extra }),
    cleanup: () => rmSync(workspaceRoot, { recursive: true, force: true }),
  };
}

async function rss(machine: TestSite) {
  // The feeds are served on loopback: this operator allows private addresses explicitly.
  machine.site.network = { ...machine.site.network, allowPrivateAddresses: true };
  const res = await runRss(machine.site, machine.paths, { retries: 0 }, machine.log);
  expect(res.problems).toEqual([]);
  return res;
}

const episodesOf = (m: EpisodeManifest) => m.episodes.map((e) => e.id);
const localManifest = (m: TestSite) => JSON.parse(readFileSync(m.paths.manifestFile, 'utf8')) as EpisodeManifest;

interface Backend {
  name: string;
  /** A site on a fresh bucket, with the ctx extras this backend needs. */
  make(): Promise<{ machine: TestSite; extra: Partial<SyncContext>; bucketFile(key: string): Promise<Buffer> }>;
}

const local: Backend = {
  name: 'the local-folder bucket',
  async make() {
    const shared = mkdtempSync(path.join(os.tmpdir(), 'podline-shared-bucket-'));
    const machine = makeSite({ kind: 'local', path: shared });
    const cleanup = machine.cleanup;
    machine.cleanup = () => {
      cleanup();
      rmSync(shared, { recursive: true, force: true });
    };
    s3.track(machine);
    return { machine, extra: {}, bucketFile: async (key) => readFileSync(path.join(shared, ...key.split('/'))) };
  },
};

const s3Backend: Backend = {
  name: 'the S3 test server',
  async make() {
    const { bucket, site } = await s3.site();
    return { machine: site, extra: { credentials: S3_TEST_CREDENTIALS }, bucketFile: async (key) => (await getObject(s3.client, bucket, key)).body };
  },
};

describe.each([s3Backend, local])('owned files on $name', (backend) => {
  it('a growing feed updates the bucket\'s manifest and saved feed, whatever the conflict mode; media keep it', async () => {
    const { machine, extra, bucketFile } = await backend.make();
    const feedUrl = serveFeed(`/grow${++feedCount}`, [1, 2, 3]);
    machine.site.podcasts[0].feedUrl = feedUrl;
    await rss(machine);
    expect((await uploadSite(machine.ctx(extra))).problems).toEqual([]);
    expect(episodesOf(JSON.parse((await bucketFile(MANIFEST_KEY)).toString()))).toHaveLength(3);

    serveFeed(`/grow${feedCount}`, [1, 2, 3, 4, 5]);
    await rss(machine);
    // A transcript edited here stays as the bucket has it under skip-existing (media: the operator's mode).
    const [first] = localManifest(machine).episodes;
    writeTree(machine.paths.root, { [keys.transcript('show', first.fileKey)]: '1\n00:00:00,000 --> 00:00:01,000\nold\n' });
    await uploadSite(machine.ctx(extra));
    writeTree(machine.paths.root, { [keys.transcript('show', first.fileKey)]: '1\n00:00:00,000 --> 00:00:01,000\nedited here\n' });

    const up = await uploadSite(machine.ctx(extra), { conflict: 'skip-existing' });
    expect(up.problems).toEqual([]);
    expect(up.counts.skippedExisting).toBeGreaterThanOrEqual(1);
    const inBucket = JSON.parse((await bucketFile(MANIFEST_KEY)).toString()) as EpisodeManifest;
    expect(episodesOf(inBucket)).toEqual(episodesOf(localManifest(machine)));
    expect(inBucket.episodes).toHaveLength(5);
    expect((await bucketFile(keys.rss('show'))).equals(readFileSync(machine.paths.rssFile('show')))).toBe(true);
    expect((await bucketFile(keys.transcript('show', first.fileKey))).toString()).toMatch(/old/);

    // Nothing changed: nothing goes up again, and the manifest is not downloaded to be merged.
    const again = await uploadSite(machine.ctx(extra));
    expect(again.counts.uploaded).toBe(0);
    expect(again.counts.manifestEpisodesMerged).toBeUndefined();
  });

  it('two machines add different episodes: one merged manifest in the bucket and in both data folders', async () => {
    const { machine: a, extra, bucketFile } = await backend.make();
    const b = s3.track(secondMachine(a));
    const feedPath = `/two${++feedCount}`;
    a.site.podcasts[0].feedUrl = serveFeed(feedPath, [1, 2, 3]);
    // Machine A reads the feed with episode 3; by the time B reads it, 3 has dropped out and 4 is new.
    await rss(a);
    serveFeed(feedPath, [1, 2, 4]);
    await rss(b);
    expect(episodesOf(localManifest(a))).toEqual(['ep-1', 'ep-2', 'ep-3']);
    expect(episodesOf(localManifest(b))).toEqual(['ep-1', 'ep-2', 'ep-4']);

    expect((await uploadSite(a.ctx(extra))).problems).toEqual([]);
    const upB = await uploadSite(b.ctx(extra));
    expect(upB.problems).toEqual([]);
    expect(upB.counts.manifestEpisodesMerged).toBe(1);
    const merged = (await bucketFile(MANIFEST_KEY)).toString();
    expect(episodesOf(JSON.parse(merged))).toEqual(['ep-1', 'ep-2', 'ep-3', 'ep-4']);
    expect(readFileSync(b.paths.manifestFile, 'utf8')).toBe(merged);

    // A's next pre-sync merges B's episode in, and fetches its audio.
    const pre = await preSync(a.ctx(extra));
    expect(pre.problems).toEqual([]);
    expect(pre.counts.manifestEpisodesMerged).toBe(1);
    expect(readFileSync(a.paths.manifestFile, 'utf8')).toBe(merged);
    const ep4 = localManifest(a).episodes.find((e) => e.id === 'ep-4')!;
    expect(readFileSync(a.paths.audioFile('show', ep4.fileKey)).equals(fakeMp3(3004, 4))).toBe(true);

    // B's next pre-sync fetches the audio of A's episode; its manifest already has it.
    const preB = await preSync(b.ctx(extra));
    expect(preB.counts).toMatchObject({ downloaded: 1 });
    const ep3 = localManifest(b).episodes.find((e) => e.id === 'ep-3')!;
    expect(readFileSync(b.paths.audioFile('show', ep3.fileKey)).equals(fakeMp3(3003, 3))).toBe(true);

    // Settled: rss on A keeps all four (the feed no longer lists 3), and nothing moves on either machine.
    await rss(a);
    expect(readFileSync(a.paths.manifestFile, 'utf8')).toBe(merged);
    // A's saved feed is the newest copy now (B's may or may not have gone up, by a second): it follows.
    expect((await uploadSite(a.ctx(extra))).problems).toEqual([]);
    expect((await bucketFile(keys.rss('show'))).equals(readFileSync(a.paths.rssFile('show')))).toBe(true);
    for (const m of [a, b]) {
      const pre2 = await preSync(m.ctx(extra));
      expect(pre2.counts).toMatchObject({ downloaded: 0 });
      expect(pre2.counts.manifestEpisodesMerged).toBeUndefined();
      expect((await uploadSite(m.ctx(extra))).counts.uploaded).toBe(0);
    }
  });

  it('never replaces the bucket\'s manifest with an older, smaller one', async () => {
    const { machine: a, extra, bucketFile } = await backend.make();
    const b = s3.track(secondMachine(a));
    a.site.podcasts[0].feedUrl = serveFeed(`/old${++feedCount}`, [1, 2, 3, 4]);
    await rss(a);
    await uploadSite(a.ctx(extra));
    // B holds an older manifest (two episodes), written later: newer by time, smaller by content.
    const older = { ...localManifest(a), episodes: localManifest(a).episodes.slice(0, 2) };
    writeTree(b.paths.root, { [MANIFEST_KEY]: stableStringify(older) });
    const up = await uploadSite(b.ctx(extra), { conflict: 'overwrite-always' });
    expect(up.problems).toEqual([]);
    expect(episodesOf(JSON.parse((await bucketFile(MANIFEST_KEY)).toString()))).toEqual(['ep-1', 'ep-2', 'ep-3', 'ep-4']);
    expect(episodesOf(localManifest(b))).toEqual(['ep-1', 'ep-2', 'ep-3', 'ep-4']);
  });

  it("a bucket manifest that is not this site's is left alone, with a message naming it and the fix", async () => {
    const { machine: a, extra, bucketFile } = await backend.make();
    const b = s3.track(secondMachine(a));
    a.site.podcasts[0].feedUrl = serveFeed(`/bad${++feedCount}`, [1]);
    writeTree(a.paths.root, { [MANIFEST_KEY]: stableStringify({ version: 1, site: 'someone-else', episodes: [] }) });
    await uploadSite(a.ctx(extra));
    rmSync(a.paths.manifestFile);
    await rss(b);
    const up = await uploadSite(b.ctx(extra));
    expect(up.problems).toEqual([
      expect.objectContaining({ file: MANIFEST_KEY, message: expect.stringMatching(/bucket's episode manifest .* cannot be used: .*belongs to site "someone-else"/), fix: expect.stringMatching(/move it aside there/) }),
    ]);
    expect(JSON.parse((await bucketFile(MANIFEST_KEY)).toString()).site).toBe('someone-else');
    const pre = await preSync(b.ctx(extra));
    expect(pre.problems).toHaveLength(1);
    expect(localManifest(b).site).toBe(b.site.id);
  });
});

describe('the Lambda indexer reads the merged manifest', () => {
  const saved = { ...process.env };
  afterAll(() => {
    process.env = saved;
  });

  it('sees the episodes a grown feed added, once upload has run', async () => {
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: S3_TEST_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: S3_TEST_CREDENTIALS.secretAccessKey });
    delete process.env.AWS_SESSION_TOKEN;
    delete process.env.AWS_PROFILE;
    const { bucket, site: m, ctx } = await s3.site({ index: { kind: 'lambda' } as never });
    const feedPath = `/lambda${++feedCount}`;
    m.site.podcasts[0].feedUrl = serveFeed(feedPath, [1, 2]);
    const transcribe = () => {
      for (const e of localManifest(m).episodes) {
        writeTree(m.paths.root, { [keys.transcript('show', e.fileKey)]: `1\n00:00:00,000 --> 00:00:04,000\nWords of episode number${e.id.slice(3)} here.\n\n2\n00:00:04,000 --> 00:00:08,000\nThe end.\n` });
      }
    };
    const work = mkdtempSync(path.join(os.tmpdir(), 'podline-lambda-'));
    const search = async (q: string) => {
      const file = path.join(work, 'q.sqlite');
      writeFileSync(file, (await new S3ObjectStore(s3.client, bucket, '').get(keys.searchIndex()))!);
      const db = new Database(file, { readonly: true });
      try {
        return searchIndex(db, q).map((h) => h.episodeTitle);
      } finally {
        db.close();
      }
    };
    const env = { PODLINE_S3_ENDPOINT: s3.server.endpoint, PODLINE_WORK_DIR: work, AWS_REGION: 'us-east-1' };
    try {
      await rss(m);
      transcribe();
      expect((await uploadSite(ctx)).problems).toEqual([]);
      await indexSite({ site: m.site.id, bucket }, env);
      expect(await search('number2')).toEqual(['Episode 2']);
      expect(await search('number3')).toEqual([]);

      serveFeed(feedPath, [1, 2, 3]);
      await rss(m);
      transcribe();
      expect((await uploadSite(ctx)).problems).toEqual([]);
      await indexSite({ site: m.site.id, bucket }, env);
      expect(await search('number3')).toEqual(['Episode 3']);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
