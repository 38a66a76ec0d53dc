import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PodlineError, TEMP_SUFFIX } from '@podline/config';
import { createHash } from 'node:crypto';
import { contentTypeFor } from './content-type';
import { HashCache } from './hash-cache';
import { Progress } from './progress';
import { S3Backend } from './s3-backend';
import { StorageError, classifyError, withRetries } from './errors';
import { folderOf, keyPath, podcastOf } from './keys';
import { decide } from './plan';
import { runPool } from './pool';
import { digestListing } from './state';
import type { ObjectEntry } from './types';
import { removeStaleTemps, walkFolders } from './walk';

const e = (key: string, size: number, mtimeMs: number, etag?: string): ObjectEntry => ({ key, size, mtimeMs, etag });

describe('decide (conflict modes)', () => {
  const src = e('audio/s/a.mp3', 10, 10_000);
  const unknown = async () => undefined;
  it('transfers a key missing on the target in every mode', async () => {
    for (const mode of ['skip-existing', 'overwrite-if-newer', 'overwrite-always'] as const) {
      expect(await decide(src, undefined, mode, unknown)).toBe('transfer');
    }
  });
  it('skip-existing never overwrites, even a different older target', async () => {
    expect(await decide(src, e(src.key, 3, 1), 'skip-existing', async () => false)).toBe('exists');
  });
  it('overwrite-if-newer: later mtime wins, equal times go to the larger, older never overwrites', async () => {
    expect(await decide(src, e(src.key, 10, 5_000), 'overwrite-if-newer', unknown)).toBe('transfer');
    expect(await decide(src, e(src.key, 10, 20_000), 'overwrite-if-newer', async () => false)).toBe('not-newer');
    expect(await decide(src, e(src.key, 5, 10_500), 'overwrite-if-newer', async () => false)).toBe('transfer');
    expect(await decide(src, e(src.key, 50, 10_500), 'overwrite-if-newer', async () => false)).toBe('not-newer');
  });
  it('overwrite-always overwrites unless the content is known identical', async () => {
    expect(await decide(src, e(src.key, 10, 99_000), 'overwrite-always', unknown)).toBe('transfer');
    expect(await decide(src, e(src.key, 10, 99_000), 'overwrite-always', async () => true)).toBe('same');
  });
});

describe('error classification and retries (in-process faults a server cannot be asked for)', () => {
  const sdkError = (name: string, status: number) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
  it('classifies throttling, 5xx, timeouts as retryable; auth and missing bucket as fatal', () => {
    expect(classifyError(sdkError('SlowDown', 503))).toBe('retryable');
    expect(classifyError(sdkError('TooManyRequestsException', 429))).toBe('retryable');
    expect(classifyError(sdkError('InternalError', 500))).toBe('retryable');
    expect(classifyError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toBe('retryable');
    expect(classifyError(sdkError('ExpiredToken', 400))).toBe('auth');
    expect(classifyError(sdkError('InvalidAccessKeyId', 403))).toBe('auth');
    expect(classifyError(sdkError('NoSuchBucket', 404))).toBe('no-bucket');
    expect(classifyError(sdkError('InvalidArgument', 400))).toBe('other');
  });
  it('retries SlowDown with growing jittered delays, then succeeds', async () => {
    const delays: number[] = [];
    let calls = 0;
    const result = await withRetries(
      async () => {
        if (++calls < 4) throw sdkError('SlowDown', 503);
        return 'ok';
      },
      { retries: 5, baseDelayMs: 100, sleep: async (ms) => void delays.push(ms), random: () => 0.5 },
    );
    expect(result).toBe('ok');
    expect(calls).toBe(4);
    expect(delays).toEqual([50, 100, 200]);
  });
  it('gives up after `retries` and rethrows the last error', async () => {
    let calls = 0;
    await expect(
      withRetries(async () => {
        calls++;
        throw sdkError('ServiceUnavailable', 503);
      }, { retries: 2, sleep: async () => undefined }),
    ).rejects.toThrow('ServiceUnavailable');
    expect(calls).toBe(3);
  });
  it('never retries an expired token: one call, no storm', async () => {
    let calls = 0;
    await expect(
      withRetries(async () => {
        calls++;
        throw sdkError('ExpiredToken', 400);
      }, { retries: 5, sleep: async () => undefined }),
    ).rejects.toThrow('ExpiredToken');
    expect(calls).toBe(1);
  });
});

describe('keys, content types, digests, pool', () => {
  it('maps keys to folders and podcasts, refusing unsafe keys and junk', () => {
    expect(folderOf('audio/show/ep.mp3')).toBe('audio');
    expect(folderOf('.cache/x.json')).toBeUndefined();
    expect(folderOf('other/x')).toBeUndefined();
    expect(folderOf('audio/show/.ep.mp3.123.ab.podline-tmp')).toBeUndefined();
    expect(folderOf('audio/show/ep.mp3.part')).toBeUndefined();
    expect(podcastOf('rss/show.xml')).toBe('show');
    expect(podcastOf('transcripts/show/ep.srt')).toBe('show');
    expect(() => keyPath('/x', 'audio/../../etc/passwd')).toThrow('unsafe');
  });
  it('sets content types by extension', () => {
    expect(contentTypeFor('audio/s/e.mp3')).toBe('audio/mpeg');
    expect(contentTypeFor('transcripts/s/e.srt')).toBe('application/x-subrip');
    expect(contentTypeFor('episode-manifest/full-episode-manifest.json')).toBe('application/json');
    expect(contentTypeFor('rss/s.xml')).toBe('application/rss+xml');
    expect(contentTypeFor('search-index/x.bin')).toBe('application/octet-stream');
  });
  it('digests are independent of order and times, and change with content', () => {
    const a = new Map([
      ['audio/s/1.mp3', e('audio/s/1.mp3', 1, 1, 'aa')],
      ['rss/s.xml', e('rss/s.xml', 2, 2, 'bb')],
    ]);
    const b = new Map([
      ['rss/s.xml', e('rss/s.xml', 2, 999, 'bb')],
      ['audio/s/1.mp3', e('audio/s/1.mp3', 1, 999, 'aa')],
    ]);
    expect(digestListing(a)).toEqual(digestListing(b));
    b.set('rss/s.xml', e('rss/s.xml', 2, 2, 'cc'));
    expect(digestListing(a).rss).not.toEqual(digestListing(b).rss);
    expect(digestListing(a).audio).toEqual(digestListing(b).audio);
  });
  it('runPool bounds concurrency and stops starting work after a failure', async () => {
    let inFlight = 0;
    let peak = 0;
    const started: number[] = [];
    const items = Array.from({ length: 20 }, (_, i) => i);
    await expect(
      runPool(items, 3, async (i) => {
        started.push(i);
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise((r) => setImmediate(r));
        inFlight--;
        if (i === 4) throw new Error('stop');
      }),
    ).rejects.toThrow('stop');
    expect(peak).toBe(3);
    expect(started.length).toBeLessThan(20);
  });
});

describe('local walk and stale temp cleanup', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'podline-walk-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('lists only synced folders, never dot-entries or temp/junk files', async () => {
    const files = ['audio/s/a.mp3', 'audio/s/a.mp3.part', 'audio/s/.DS_Store', `audio/s/.a.mp3.1.ab${TEMP_SUFFIX}`, 'transcripts/s/a.srt', 'transcripts/s/a.srt~', '.cache/x.json', 'other/x.txt', 'audio/.hidden/x.mp3'];
    for (const f of files) {
      mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
      writeFileSync(path.join(root, f), 'x');
    }
    const listing = await walkFolders(root, ['audio', 'transcripts', 'rss']);
    expect([...listing.keys()].sort()).toEqual(['audio/s/a.mp3', 'transcripts/s/a.srt']);
  });

  it('removes our temp files of dead writers only, never user files or live writers', async () => {
    const dir = path.join(root, 'audio', 's');
    mkdirSync(dir, { recursive: true });
    const dead = `.a.mp3.999999999.ab12${TEMP_SUFFIX}`;
    const live = `.b.mp3.${process.pid}.cd34${TEMP_SUFFIX}`;
    for (const n of [dead, live, 'a.mp3.part', 'c.mp3']) writeFileSync(path.join(dir, n), 'x');
    expect(await removeStaleTemps(root, ['audio'])).toBe(1);
    expect(readdirSync(dir).sort()).toEqual([live, 'a.mp3.part', 'c.mp3'].sort());
  });
});

describe('S3 backend error paths a server cannot produce (in-process mock of the client)', () => {
  const sdkError = (name: string, status: number) => Object.assign(new Error(`${name} from mock`), { name, $metadata: { httpStatusCode: status } });
  const backend = () =>
    new S3Backend({
      siteId: 'demo',
      bucket: 'demo-bucket',
      region: 'eu-west-1',
      endpoint: 'http://127.0.0.1:9',
      forcePathStyle: true,
      credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
      retry: { retries: 3, baseDelayMs: 1, maxDelayMs: 2 },
    });

  it('an expired session token stops at once with a message naming the site, bucket and what to check', async () => {
    const b = backend();
    const send = jest.fn().mockRejectedValue(sdkError('ExpiredToken', 400));
    (b.client as unknown as { send: typeof send }).send = send;
    const err = await b.list().catch((e) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect(err.kind).toBe('auth');
    expect(err.message).toBe('site demo: s3://demo-bucket refused the credentials while trying to list the bucket (ExpiredToken (HTTP 400): ExpiredToken from mock)');
    expect(err.fix).toContain('an expired session');
    expect(send).toHaveBeenCalledTimes(1);
    b.close();
  });

  it("a credentials provider's own explained failure is kept as is and never retried", async () => {
    let calls = 0;
    const b = new S3Backend({
      siteId: 'demo',
      bucket: 'demo-bucket',
      region: 'eu-west-1',
      endpoint: 'http://127.0.0.1:9',
      forcePathStyle: true,
      credentials: async () => {
        calls++;
        throw Object.assign(new PodlineError('site demo: cannot assume role arn:x: ECONNREFUSED: refused', { fix: 'check the automation credentials' }), { code: 'ECONNREFUSED' });
      },
      retry: { retries: 3, baseDelayMs: 1, maxDelayMs: 2 },
    });
    const err = await b.list().catch((e) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect([err.kind, err.message, err.fix]).toEqual(['auth', 'site demo: cannot assume role arn:x: ECONNREFUSED: refused', 'check the automation credentials']);
    expect(calls).toBe(1);
    b.close();
  });

  it('SlowDown throttling is retried until the listing succeeds', async () => {
    const b = backend();
    const send = jest
      .fn()
      .mockRejectedValueOnce(sdkError('SlowDown', 503))
      .mockRejectedValueOnce(sdkError('SlowDown', 503))
      .mockResolvedValue({ Contents: [{ Key: 'rss/show.xml', Size: 3, ETag: '"abc"', LastModified: new Date(0) }, { Key: 'elsewhere/x', Size: 1 }], IsTruncated: false });
    (b.client as unknown as { send: typeof send }).send = send;
    const listing = await b.list();
    expect([...listing.keys()]).toEqual(['rss/show.xml']);
    expect(listing.get('rss/show.xml')).toEqual({ key: 'rss/show.xml', size: 3, mtimeMs: 0, etag: 'abc' });
    expect(send).toHaveBeenCalledTimes(3);
    b.close();
  });
});

describe('hash cache and progress', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'podline-hash-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('rehashes a file only when its size or mtime changed, and persists across opens', async () => {
    const file = path.join(dir, 'a.srt');
    writeFileSync(file, 'one');
    const cacheFile = path.join(dir, 'cache', 'hashes.json');
    const cache = await HashCache.open(cacheFile);
    const entry = e('transcripts/s/a.srt', 3, 1000);
    expect(await cache.md5(entry, file)).toBe(createHash('md5').update('one').digest('hex'));
    await cache.save();
    writeFileSync(file, 'two');
    const reopened = await HashCache.open(cacheFile);
    // Same size and mtime: the cached value is trusted (that is the point of the cache).
    expect(await reopened.md5(entry, file)).toBe(createHash('md5').update('one').digest('hex'));
    expect(await reopened.md5({ ...entry, mtimeMs: 2000 }, file)).toBe(createHash('md5').update('two').digest('hex'));
  });

  it('progress reports files, megabytes and percent, at most once a second and always at the end', () => {
    const lines: string[] = [];
    let now = 0;
    const log = { info: () => undefined, warn: () => undefined, debug: () => undefined, progress: (m: string) => void lines.push(m) };
    const p = new Progress(log, 'uploaded', 2, 2 * 1024 * 1024, () => now);
    now = 1500;
    p.bytesDone(1024 * 1024);
    now = 1600;
    p.fileDone();
    p.bytesDone(1024 * 1024);
    p.fileDone();
    expect(lines).toEqual(['uploaded 0/2 files, 1.0/2.0 MB (50%)', 'uploaded 2/2 files, 2.0/2.0 MB (100%)']);
  });
});
