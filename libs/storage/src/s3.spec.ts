import { randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { MANIFEST_KEY } from '@podline/config';
import { S3_TEST_CREDENTIALS, S3_TEST_REGION } from '@podline/testing/s3-server';
import { bucketTree, getObject, makeSite, md5, putTree, readTree, useS3, writeTree } from './spec-fixtures';
import { StorageError } from './errors';
import { S3Backend } from './s3-backend';
import { checkSite, preSync, uploadSite } from './sync';

const s3 = useS3('bucket');

const sample = (n = 3): Record<string, string> => {
  const files: Record<string, string> = { 'rss/show.xml': '<rss/>', [MANIFEST_KEY]: '{"version":1}' };
  for (let i = 0; i < n; i++) {
    files[`audio/show/ep${i}.mp3`] = `audio ${i} `.repeat(100 + i);
    files[`transcripts/show/ep${i}.srt`] = `1\n00:00:00,000 --> 00:00:01,000\nline ${i}\n`;
    files[`search-entries/show/ep${i}.json`] = `{"i":${i}}`;
  }
  files['search-index/index.sqlite'] = 'sqlite bytes';
  return files;
};
const md5Tree = (files: Record<string, string | Buffer>) =>
  Object.fromEntries(Object.entries(files).map(([k, v]) => [k, md5(v)]).sort(([a], [b]) => (a < b ? -1 : 1)));

describe('S3 sync against a real S3-compatible server', () => {
  it('clean slate: pre-sync pulls every key, verified, with the bucket times; a second run changes nothing', async () => {
    const { bucket, site, ctx, prefix } = await s3.site({ prefix: 'sites/one' });
    const files = sample();
    await putTree(s3.client, bucket, prefix, { ...files, 'elsewhere.txt': 'not a site folder' });
    await putTree(s3.client, bucket, '', { 'outside-prefix/x.txt': 'x' });

    const first = await preSync(ctx);
    expect(first.problems).toEqual([]);
    expect(first.counts).toMatchObject({ downloaded: Object.keys(files).length });
    expect(readTree(site.paths.root)).toEqual(md5Tree(files));
    const remote = await bucketTree(s3.client, bucket, prefix);
    // Local mtime = the bucket's LastModified (second precision), so overwrite-if-newer sees them as equal.
    const { LastModified } = await s3.client.send(new HeadObjectCommand({ Bucket: bucket, Key: `${prefix}/rss/show.xml` }));
    expect(Math.round(statSync(site.paths.file('rss/show.xml')).mtimeMs / 1000)).toBe(Math.round(LastModified!.getTime() / 1000));
    expect(remote['rss/show.xml']).toBe(md5('<rss/>'));

    const second = await preSync(ctx);
    expect(second.counts).toMatchObject({ downloaded: 0, skippedExisting: Object.keys(files).length, requests: 1 });
    expect(second.state).toEqual(first.state);
  });

  it('local backlog: upload pushes everything but junk, with content types, the manifest last; a re-run uploads nothing', async () => {
    const { bucket, site, ctx } = await s3.site();
    const files = sample(4);
    writeTree(site.paths.root, {
      ...files,
      'audio/show/ep9.mp3.part': 'partial',
      'audio/show/.DS_Store': 'junk',
      'transcripts/show/ep0.srt~': 'editor backup',
      'audio/show/.ep8.mp3.123.abcd.podline-tmp': 'ours, half-written',
      '.cache/feeds/show.json': '{}',
    });
    const first = await uploadSite(ctx, { concurrency: 4 });
    expect(first.problems).toEqual([]);
    expect(first.counts).toMatchObject({ uploaded: Object.keys(files).length });
    expect(await bucketTree(s3.client, bucket, '')).toEqual(md5Tree(files));

    const puts = s3.proxy.requests.filter((r) => r.method === 'PUT');
    expect(puts).toHaveLength(Object.keys(files).length);
    expect(decodeURIComponent(puts[puts.length - 1].url)).toContain(MANIFEST_KEY);
    expect((await getObject(s3.client, bucket, 'audio/show/ep0.mp3')).contentType).toBe('audio/mpeg');
    expect((await getObject(s3.client, bucket, 'transcripts/show/ep0.srt')).contentType).toBe('application/x-subrip');
    expect((await getObject(s3.client, bucket, MANIFEST_KEY)).contentType).toBe('application/json');

    s3.proxy.requests.length = 0;
    const second = await uploadSite(ctx);
    expect(second.counts).toMatchObject({ uploaded: 0, requests: 1 });
    expect(s3.proxy.requests.map((r) => r.method)).toEqual(['GET']);
    expect(second.state).toEqual(first.state);
  });

  it("upload's state changes exactly when the bucket's source content changed, never for the index's folders", async () => {
    const { site, ctx } = await s3.site();
    writeTree(site.paths.root, sample(1));
    const a = (await uploadSite(ctx)).state;
    writeTree(site.paths.root, { 'search-entries/show/extra.json': '{}', 'search-index/index.sqlite': 'rebuilt, bigger' });
    const b = await uploadSite(ctx, { conflict: 'overwrite-always' });
    expect(b.counts.uploaded).toBe(2);
    expect(b.state).toEqual(a);
    writeTree(site.paths.root, { 'transcripts/show/new.srt': 'new' });
    const c = await uploadSite(ctx);
    expect(c.counts.uploaded).toBe(1);
    expect(c.state).not.toEqual(a);
  });

  it('a remote index (lambda) keeps upload away from the search folders by default', async () => {
    const { bucket, site, ctx } = await s3.site({ index: { kind: 'lambda', functionName: 'f' } });
    writeTree(site.paths.root, sample(1));
    await uploadSite(ctx);
    expect(Object.keys(await bucketTree(s3.client, bucket, '')).filter((k) => k.startsWith('search-'))).toEqual([]);
  });

  it('mixed overlap: check reports per folder, pre-sync + upload join both sides, differing files stay untouched', async () => {
    const { bucket, site, ctx } = await s3.site({ prefix: 'p' });
    writeTree(site.paths.root, {
      'audio/show/both.mp3': 'same',
      'audio/show/local-only.mp3': 'L',
      'transcripts/show/differs.srt': 'local version',
      'transcripts/show/same-size.srt': 'AAAA',
    });
    await putTree(s3.client, bucket, 'p', {
      'audio/show/both.mp3': 'same',
      'audio/show/bucket-only.mp3': 'B',
      'transcripts/show/differs.srt': 'bucket version, longer',
      'transcripts/show/same-size.srt': 'BBBB',
      'rss/show.xml': '<rss/>',
    });
    const check = await checkSite(ctx);
    expect(check.state).toMatchObject({
      folders: {
        audio: { onlyLocal: ['audio/show/local-only.mp3'], onlyBucket: ['audio/show/bucket-only.mp3'], differing: [] },
        transcripts: {
          onlyLocal: [],
          onlyBucket: [],
          differing: [
            { key: 'transcripts/show/differs.srt', reason: 'size' },
            { key: 'transcripts/show/same-size.srt', reason: 'md5' },
          ],
        },
        rss: { onlyLocal: [], onlyBucket: ['rss/show.xml'], differing: [] },
      },
    });
    expect(check.counts).toMatchObject({ onlyLocal: 1, onlyBucket: 2, differing: 2, inSync: 1 });
    expect(site.log.lines.some((l) => l.includes('audio: 1 only local, 1 only in the bucket'))).toBe(true);

    await preSync(ctx);
    await uploadSite(ctx);
    const after = await checkSite(ctx);
    expect(after.counts).toMatchObject({ onlyLocal: 0, onlyBucket: 0, differing: 2 });
    expect(readFileSync(site.paths.file('transcripts/show/differs.srt'), 'utf8')).toBe('local version');
    expect((await getObject(s3.client, bucket, 'p/transcripts/show/differs.srt')).body.toString()).toBe('bucket version, longer');
  });

  it('2,500 keys: uploaded concurrently, then one listing in 1,000-key pages, reused by check and upload of the run', async () => {
    const { bucket, site, ctx } = await s3.site({ runId: 'run-paging-1' });
    const files: Record<string, string> = {};
    for (let i = 0; i < 2500; i++) files[`transcripts/show/${String(i).padStart(4, '0')}.srt`] = `t${i}`;
    writeTree(site.paths.root, files);
    const pushed = await uploadSite(ctx, { concurrency: 16 });
    expect(pushed.problems).toEqual([]);
    expect(pushed.counts.uploaded).toBe(2500);
    expect(Object.keys(await bucketTree(s3.client, bucket, ''))).toHaveLength(2500);

    // The next run (new run id): pre-sync lists once, in three pages; check and upload reuse that listing.
    const next = { ...ctx, env: { PODLINE_RUN_ID: 'run-paging-2' } };
    s3.proxy.requests.length = 0;
    const pulled = await preSync(next);
    expect(pulled.counts).toMatchObject({ downloaded: 0, skippedExisting: 2500, requests: 3 });
    const lists = s3.proxy.requests.filter((r) => r.method === 'GET' && r.url.includes('list-type=2'));
    expect(lists).toHaveLength(3);
    expect(s3.proxy.requests).toHaveLength(3);
    const check = await checkSite(next);
    const upload = await uploadSite(next);
    expect(check.counts).toMatchObject({ inSync: 2500, onlyLocal: 0, onlyBucket: 0, differing: 0, requests: 0 });
    expect(upload.counts).toMatchObject({ uploaded: 0, requests: 0 });
    expect(upload.state).toEqual(pushed.state);
    expect(s3.proxy.requests).toHaveLength(3);
  });

  it('a 30 MB file goes up in parts and comes back byte-identical (checked by hash)', async () => {
    const up = await s3.site();
    const big = randomBytes(30 * 1024 * 1024);
    writeTree(up.site.paths.root, { 'audio/show/big.mp3': big });
    const res = await uploadSite(up.ctx, { multipartThresholdMB: 8 });
    expect(res.problems).toEqual([]);
    expect(s3.proxy.requests.some((r) => r.method === 'POST' && r.url.includes('uploads'))).toBe(true);
    expect(md5((await getObject(s3.client, up.bucket, 'audio/show/big.mp3')).body)).toBe(md5(big));
    expect(up.site.log.lines.some((l) => /^progress: uploaded 1\/1 files, 30\.0\/30\.0 MB \(100%\)/.test(l))).toBe(true);

    // And down again on another machine: verified by size (a multipart ETag is no MD5), hash equal.
    const down = makeSite(up.site.site.storage);
    s3.track(down);
    const pulled = await preSync(down.ctx({ credentials: S3_TEST_CREDENTIALS }));
    expect(pulled.problems).toEqual([]);
    expect(pulled.counts).toMatchObject({ downloaded: 1, downloadedBytes: 30 * 1024 * 1024 });
    expect(md5(readFileSync(down.paths.file('audio/show/big.mp3')))).toBe(md5(big));
  });

  describe('conflict modes, both directions', () => {
    const KEY = 'transcripts/show/c.srt';
    const OLD = new Date('2020-01-01T00:00:00Z');
    const FUTURE = new Date(Date.now() + 24 * 3600 * 1000);
    async function conflicted(localMtime: Date) {
      const s = await s3.site();
      await putTree(s3.client, s.bucket, '', { [KEY]: 'bucket side' });
      writeTree(s.site.paths.root, { [KEY]: 'local side!' }, localMtime);
      const local = () => readFileSync(s.site.paths.file(KEY), 'utf8');
      const remote = async () => (await getObject(s3.client, s.bucket, KEY)).body.toString();
      return { ...s, local, remote };
    }
    it('skip-existing (default) overwrites neither side', async () => {
      const s = await conflicted(FUTURE);
      expect((await preSync(s.ctx)).counts).toMatchObject({ downloaded: 0, skippedExisting: 1 });
      expect((await uploadSite(s.ctx)).counts).toMatchObject({ uploaded: 0, skippedExisting: 1 });
      expect([s.local(), await s.remote()]).toEqual(['local side!', 'bucket side']);
    });
    it('overwrite-if-newer: a newer local file goes up, an older one never; the same for downloads', async () => {
      const newerLocal = await conflicted(FUTURE);
      expect((await preSync(newerLocal.ctx, { conflict: 'overwrite-if-newer' })).counts).toMatchObject({ downloaded: 0, skippedNotNewer: 1 });
      expect((await uploadSite(newerLocal.ctx, { conflict: 'overwrite-if-newer' })).counts).toMatchObject({ uploaded: 1 });
      expect(await newerLocal.remote()).toBe('local side!');

      const olderLocal = await conflicted(OLD);
      expect((await uploadSite(olderLocal.ctx, { conflict: 'overwrite-if-newer' })).counts).toMatchObject({ uploaded: 0, skippedNotNewer: 1 });
      expect((await preSync(olderLocal.ctx, { conflict: 'overwrite-if-newer' })).counts).toMatchObject({ downloaded: 1 });
      expect(olderLocal.local()).toBe('bucket side');
      // Now equal content: neither direction moves anything.
      expect((await uploadSite(olderLocal.ctx, { conflict: 'overwrite-if-newer' })).counts).toMatchObject({ uploaded: 0, identical: 1 });
    });
    it('overwrite-always overwrites whichever side is the target, whatever the times', async () => {
      const down = await conflicted(FUTURE);
      expect((await preSync(down.ctx, { conflict: 'overwrite-always' })).counts).toMatchObject({ downloaded: 1 });
      expect(down.local()).toBe('bucket side');
      const up = await conflicted(OLD);
      expect((await uploadSite(up.ctx, { conflict: 'overwrite-always' })).counts).toMatchObject({ uploaded: 1 });
      expect(await up.remote()).toBe('local side!');
      // Identical now: not sent again.
      expect((await uploadSite(up.ctx, { conflict: 'overwrite-always' })).counts).toMatchObject({ uploaded: 0, identical: 1 });
    });
  });

  it('dry-run lists every transfer and changes nothing on either side (no state, no cache)', async () => {
    const { bucket, site, ctx } = await s3.site({ runId: 'run-dry' });
    writeTree(site.paths.root, { 'audio/show/l.mp3': 'local', 'transcripts/show/c.srt': 'local c' });
    await putTree(s3.client, bucket, '', { 'audio/show/b.mp3': 'bucket', 'transcripts/show/c.srt': 'bucket c' });
    const localBefore = readTree(site.paths.root, true);
    const bucketBefore = await bucketTree(s3.client, bucket, '');
    const pulled = await preSync(ctx, { dryRun: true, conflict: 'overwrite-always' });
    const checked = await checkSite(ctx, { dryRun: true });
    const pushed = await uploadSite(ctx, { dryRun: true, conflict: 'overwrite-always' });
    expect(pulled.counts).toMatchObject({ wouldDownload: 2 });
    expect(pushed.counts).toMatchObject({ wouldUpload: 2 });
    expect([pulled.state, checked.state, pushed.state]).toEqual([undefined, undefined, undefined]);
    expect(site.log.lines).toEqual(
      expect.arrayContaining([
        'info: would download audio/show/b.mp3 (6 bytes)',
        'info: would download transcripts/show/c.srt (8 bytes) over the local file',
        'info: would upload audio/show/l.mp3 (5 bytes)',
        'info: would upload transcripts/show/c.srt (7 bytes) over the bucket object',
      ]),
    );
    expect(readTree(site.paths.root, true)).toEqual(localBefore);
    expect(await bucketTree(s3.client, bucket, '')).toEqual(bucketBefore);
    expect(s3.proxy.requests.every((r) => r.method === 'GET')).toBe(true);
  });

  it("queue results (readTemp/removeTemp): other keys and oversized objects are refused with a storage error naming the object and what to do", async () => {
    const { bucket } = await s3.site();
    await putTree(s3.client, bucket, 'p', { 'queue-results/show/ep1/big.json': 'x'.repeat(100), 'audio/show/ep1.mp3': 'A' });
    const backend = new S3Backend({ siteId: 'site', bucket, region: S3_TEST_REGION, prefix: 'p', endpoint: s3.proxy.endpoint, forcePathStyle: true, credentials: S3_TEST_CREDENTIALS });
    try {
      const where = `s3://${bucket}/p`;
      const tooLarge = backend.readTemp('queue-results/show/ep1/big.json', 50);
      await expect(tooLarge).rejects.toThrow(StorageError);
      await expect(tooLarge).rejects.toMatchObject({
        message: `queue-results/show/ep1/big.json in ${where} is 100 bytes, more than the 50 a temp object may hold`,
        fix: expect.stringContaining('delete it if it is not a queue result, then run again'),
      });
      await expect(backend.readTemp('audio/show/ep1.mp3', 50)).rejects.toMatchObject({ message: expect.stringContaining(`refusing to read "audio/show/ep1.mp3" in ${where}`), fix: expect.stringContaining('nothing was read') });
      const refused = backend.removeTemp('audio/show/ep1.mp3');
      await expect(refused).rejects.toThrow(StorageError);
      await expect(refused).rejects.toMatchObject({ message: expect.stringContaining(`refusing to delete "audio/show/ep1.mp3" in ${where}`), fix: expect.stringContaining('nothing was deleted') });
      expect(Object.keys(await bucketTree(s3.client, bucket, 'p'))).toEqual(['audio/show/ep1.mp3', 'queue-results/show/ep1/big.json']);
      // Refused before any request for another key; the oversized one was asked for once, never retried.
      expect(s3.proxy.requests.filter((r) => r.method !== 'PUT').map((r) => r.url.replace(/\?.*$/, ''))).toEqual([`/${bucket}/p/queue-results/show/ep1/big.json`]);
    } finally {
      backend.close();
    }
  });

  it('storage "none" does nothing, says so, and still gives a state', async () => {
    const s = makeSite({ kind: 'none' });
    s3.track(s);
    const out = await uploadSite(s.ctx());
    expect(out.state).toEqual({ storage: { kind: 'none' } });
    expect(s.log.lines.join('\n')).toContain('storage kind "none": nothing to sync');
  });
});
