import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { keys, stableStringify, type EpisodeRecord } from '@podline/config';
import { startS3Server, S3_TEST_CREDENTIALS, type S3TestServer } from '@podline/testing/s3-server';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { S3ObjectStore } from './object-store';
import { buildFromStore } from './lambda-build';
import { handler, indexSite } from './lambda';
import { searchIndex } from './sqlite-index';

const ep = (fileKey: string, title: string): EpisodeRecord => ({ id: `guid-${fileKey}`, idSource: 'guid', podcast: 'show', fileKey, title, status: 'downloaded' });
const SRT = (text: string) => `1\n00:00:00,000 --> 00:00:05,000\n${text}\n\n2\n00:00:05,000 --> 00:00:09,000\nAnd that is all.\n`;

describe('Lambda handler: the same build against a real S3-compatible server on loopback', () => {
  let s3: S3TestServer;
  let store: S3ObjectStore;
  let work: string;
  const saved = { ...process.env };
  const bucket = 'podline-index-test';
  const prefix = 'sites/example';

  beforeAll(async () => {
    s3 = await startS3Server();
    await s3.createBucket(bucket);
    store = new S3ObjectStore(s3.client(), bucket, prefix);
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: S3_TEST_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: S3_TEST_CREDENTIALS.secretAccessKey });
    delete process.env.AWS_SESSION_TOKEN;
    delete process.env.AWS_PROFILE;
  });
  afterAll(async () => {
    process.env = saved;
    await s3.stop();
  });
  beforeEach(() => (work = mkdtempSync(path.join(os.tmpdir(), 'podline-lambda-'))));
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  const env = () => ({ PODLINE_S3_ENDPOINT: s3.endpoint, PODLINE_WORK_DIR: work, AWS_REGION: 'us-east-1' });
  const event = { site: 'example', bucket, prefix, inputDigest: 'abc' };
  const queryBucketIndex = async (q: string) => {
    const file = path.join(work, 'downloaded.sqlite');
    writeFileSync(file, (await store.get(keys.searchIndex()))!);
    const db = new Database(file, { readonly: true });
    try {
      return searchIndex(db, q).map((h) => h.episodeTitle);
    } finally {
      db.close();
    }
  };

  it('builds from the bucket, uploads entries and index; a cold re-run uploads nothing; a changed SRT only its entry file', async () => {
    await store.put(keys.manifest(), stableStringify({ version: 1, site: 'example', episodes: [ep('2024-01-01_a_x', 'Episode A'), ep('2024-01-02_b_y', 'Episode B')] }));
    await store.put(keys.transcript('show', '2024-01-01_a_x'), SRT('Bees make honey in summer.'));
    await store.put(keys.transcript('show', '2024-01-02_b_y'), SRT('Owls hunt at night.'));

    const first = await indexSite(event, env());
    expect(first.uploaded).toEqual([keys.searchEntries('show', '2024-01-01_a_x'), keys.searchEntries('show', '2024-01-02_b_y'), keys.searchIndex()]);
    expect(first.counts).toMatchObject({ entriesBuilt: 2, reindexed: 2 });
    expect((await store.list('search-entries/')).map((o) => o.key)).toEqual([keys.searchEntries('show', '2024-01-01_a_x'), keys.searchEntries('show', '2024-01-02_b_y')]);
    expect(await queryBucketIndex('"make honey"')).toEqual(['Episode A']);

    // A fresh container (empty /tmp): what the bucket holds is current, nothing is uploaded.
    rmSync(work, { recursive: true, force: true });
    const second = await indexSite(event, env());
    expect(second.uploaded).toEqual([]);
    expect(second.indexDigest).toBe(first.indexDigest);

    await store.put(keys.transcript('show', '2024-01-02_b_y'), SRT('Owls sleep by day.'));
    const third = await indexSite(event, env());
    expect(third.uploaded).toEqual([keys.searchEntries('show', '2024-01-02_b_y'), keys.searchIndex()]);
    expect(third.counts).toMatchObject({ entriesBuilt: 1, entriesUnchanged: 1, reindexed: 1 });
    expect(await queryBucketIndex('owls sleep')).toEqual(['Episode B']);
    expect(await queryBucketIndex('hunt')).toEqual([]);
  });

  it('a bad transcript fails the invocation with its file named, after the rest is indexed and uploaded', async () => {
    await store.put(keys.transcript('show', '2024-01-01_a_x'), 'garbage without timings\n');
    await expect(indexSite(event, env())).rejects.toThrow(/site example: 1 episode\(s\) could not be indexed: transcripts\/show\/2024-01-01_a_x\.srt: the transcript has 1 block/);
    expect(await queryBucketIndex('owls')).toEqual(['Episode B']);
    expect(await queryBucketIndex('bees')).toEqual([]);
  });

  it('takes the bucket endpoint from the event (site storage.endpoint) over the environment', async () => {
    await store.put(keys.transcript('show', '2024-01-01_a_x'), SRT('Wasps make paper nests.'));
    const out = await indexSite({ ...event, endpoint: s3.endpoint }, { PODLINE_WORK_DIR: work, PODLINE_S3_ENDPOINT: 'http://127.0.0.1:9' });
    expect(out.uploaded).toEqual([keys.searchEntries('show', '2024-01-01_a_x'), keys.searchIndex()]);
    expect(await queryBucketIndex('wasps')).toEqual(['Episode A']);
  });

  it('a warm container fetches only what changed, and drops what the bucket no longer has', async () => {
    const pfx = 'sites/warm';
    const s = new S3ObjectStore(s3.client(), bucket, pfx);
    let gets = 0;
    const counting = { list: (p: string) => s.list(p), put: s.put.bind(s), get: (k: string) => (gets++, s.get(k)) };
    await s.put(keys.manifest(), stableStringify({ version: 1, site: 'warm', episodes: [ep('2024-01-01_a_x', 'Episode A'), ep('2024-01-02_b_y', 'Episode B')] }));
    await s.put(keys.transcript('show', '2024-01-01_a_x'), SRT('Foxes dig dens.'));
    await s.put(keys.transcript('show', '2024-01-02_b_y'), SRT('Crows use tools.'));
    const run = () => buildFromStore({ siteId: 'warm', store: counting, workDir: work });

    const first = await run();
    expect(first.fetched).toBe(2);
    expect(first.uploaded).toHaveLength(3);
    gets = 0;
    const second = await run();
    expect([gets, second.fetched, second.uploaded]).toEqual([1, 0, []]); // the manifest only

    await s.put(keys.transcript('show', '2024-01-02_b_y'), SRT('Crows remember faces.'));
    gets = 0;
    const third = await run();
    expect([gets, third.fetched]).toEqual([2, 1]);
    expect(third.uploaded).toEqual([keys.searchEntries('show', '2024-01-02_b_y'), keys.searchIndex()]);

    await s3.client().send(new DeleteObjectCommand({ Bucket: bucket, Key: `${pfx}/${keys.transcript('show', '2024-01-01_a_x')}` }));
    const fourth = await run();
    expect(fourth.counts).toMatchObject({ noTranscript: 1, dropped: 1 });
    expect(fourth.uploaded).toEqual([keys.searchIndex()]);
  });

  it('names what is missing from the event', async () => {
    await expect(indexSite({}, {})).rejects.toThrow(/must name the site and bucket/);
    // The runtime passes a context object second: the handler ignores it and reads the process environment.
    const saved = { ...process.env };
    delete process.env.PODLINE_SITE_ID;
    delete process.env.PODLINE_BUCKET;
    try {
      await expect((handler as unknown as (e: unknown, c: unknown) => Promise<unknown>)({}, { PODLINE_SITE_ID: 'x', PODLINE_BUCKET: 'y' })).rejects.toThrow(/must name the site and bucket/);
    } finally {
      process.env = saved;
    }
  });
});
