import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { MANIFEST_KEY, TEMP_SUFFIX } from '@podline/config';
import { bucketTree, md5, putTree, useS3, writeTree } from './spec-fixtures';
import { preSync, uploadSite } from './sync';
import { spawnTs } from '@podline/testing/run-ts';

const s3 = useS3('faults');

const isObjectGet = (r: { method: string; url: string }) => r.method === 'GET' && !r.url.includes('list-type');

describe('faults', () => {
  it('503s then recovery: the retries succeed (backoff logged), nothing is lost', async () => {
    const { bucket, site, ctx } = await s3.site();
    const files = { 'audio/show/a.mp3': 'a', 'audio/show/b.mp3': 'b', [MANIFEST_KEY]: '{}' };
    writeTree(site.paths.root, files);
    let failed = 0;
    s3.proxy.rule = (r) => (r.method === 'PUT' && failed++ < 3 ? { status: 503, code: 'SlowDown' } : 'pass');
    const out = await uploadSite(ctx, { concurrency: 1 });
    expect(out.problems).toEqual([]);
    expect(out.counts.uploaded).toBe(3);
    expect(Object.keys(await bucketTree(s3.client, bucket, ''))).toHaveLength(3);
    expect(site.log.lines.filter((l) => /^warn: retry \d in \d+ ms after SlowDown \(HTTP 503\)/.test(l))).toHaveLength(3);
  });

  it('a request that never answers times out and is retried', async () => {
    const { bucket, site, ctx } = await s3.site();
    await putTree(s3.client, bucket, '', { 'transcripts/show/x.srt': 'subtitle' });
    let hung = false;
    s3.proxy.rule = (r) => (isObjectGet(r) && !hung ? ((hung = true), 'hang') : 'pass');
    const out = await preSync({ ...ctx, requestTimeoutMs: 300 });
    expect(out.problems).toEqual([]);
    expect(out.counts.downloaded).toBe(1);
    expect(readFileSync(site.paths.file('transcripts/show/x.srt'), 'utf8')).toBe('subtitle');
    expect(site.log.lines.some((l) => l.startsWith('warn: retry 1') && /timeout|timed out/i.test(l))).toBe(true);
  });

  it('a body that stops half-way times out, its temp file is dropped, and the retry completes the file', async () => {
    const { bucket, site, ctx } = await s3.site();
    const body = randomBytes(512 * 1024);
    await putTree(s3.client, bucket, '', { 'audio/show/half.mp3': body });
    let stalled = false;
    s3.proxy.rule = (r) => (isObjectGet(r) && !stalled ? ((stalled = true), { stallAfterBytes: 100 * 1024 }) : 'pass');
    const out = await preSync({ ...ctx, requestTimeoutMs: 300 });
    expect(out.problems).toEqual([]);
    expect(out.counts).toMatchObject({ downloaded: 1 });
    expect(s3.proxy.requests.filter(isObjectGet)).toHaveLength(2);
    const dir = path.dirname(site.paths.file('audio/show/half.mp3'));
    expect(readdirSync(dir)).toEqual(['half.mp3']);
    expect(md5(readFileSync(path.join(dir, 'half.mp3')))).toBe(md5(body));
  });

  it('a service that stays down: bounded retries, then one clear error naming the site and bucket', async () => {
    const { bucket, site, ctx } = await s3.site();
    s3.proxy.rule = () => ({ status: 503, code: 'ServiceUnavailable' });
    const out = await preSync(ctx, { retries: 2 });
    expect(out.state).toBeUndefined();
    expect(out.problems).toHaveLength(1);
    expect(out.problems[0].message).toContain(`site ${site.site.id}: s3://${bucket} kept failing while trying to list the bucket, after 2 retries`);
    expect(out.problems[0].fix).toContain(`check the network and the endpoint (${s3.proxy.endpoint}), then run again`);
    expect(s3.proxy.requests).toHaveLength(3);
  });

  it('wrong credentials: a clear error, and no retry storm (one request)', async () => {
    const { bucket, site, ctx } = await s3.site();
    writeTree(site.paths.root, { 'audio/show/a.mp3': 'a', 'audio/show/b.mp3': 'b' });
    const out = await uploadSite({ ...ctx, credentials: { accessKeyId: 'WRONG', secretAccessKey: 'WRONG' } });
    expect(out.problems).toHaveLength(1);
    expect(out.problems[0]).toMatchObject({ site: site.site.id });
    expect(out.problems[0].message).toContain(`s3://${bucket} refused the credentials`);
    expect(out.problems[0].message).toContain('InvalidAccessKeyId');
    expect(out.problems[0].fix).toContain(`may access bucket "${bucket}"`);
    expect(s3.proxy.requests).toHaveLength(1);
  });

  it('a bucket that does not exist: says so and what to do', async () => {
    const { site, ctx } = await s3.site({ bucket: 'no-such-bucket-here', create: false });
    const out = await preSync(ctx);
    expect(out.problems).toHaveLength(1);
    expect(out.problems[0].message).toBe(`site ${site.site.id}: bucket "no-such-bucket-here" does not exist (region us-east-1, endpoint ${s3.proxy.endpoint})`);
    expect(out.problems[0].fix).toContain('terraform');
    expect(s3.proxy.requests).toHaveLength(1);
  });

  it('one file the bucket rejects: the others go up, the manifest is held back, the problem names the file', async () => {
    const { bucket, site, ctx } = await s3.site();
    writeTree(site.paths.root, { 'audio/show/ok.mp3': 'ok', 'audio/show/bad.mp3': 'bad', [MANIFEST_KEY]: '{}' });
    s3.proxy.rule = (r) => (r.method === 'PUT' && r.url.includes('bad.mp3') ? { status: 400, code: 'InvalidArgument' } : 'pass');
    const out = await uploadSite(ctx);
    expect(out.problems).toEqual([
      expect.objectContaining({ podcast: 'show', file: 'audio/show/bad.mp3', message: expect.stringContaining('InvalidArgument') }),
      expect.objectContaining({ file: MANIFEST_KEY, message: 'the episode manifest was held back because other uploads failed' }),
    ]);
    expect(Object.keys(await bucketTree(s3.client, bucket, ''))).toEqual(['audio/show/ok.mp3']);
  });

  it("the search page: its assets first, site.json and index.html only once all of them made it; the bucket's previous site.json stays until then", async () => {
    const { bucket, site, ctx } = await s3.site();
    const old = { 'web/site.json': '{"files":["index-000000000000000a.sqlite"]}', 'web/index.html': 'old page', 'web/index-000000000000000a.sqlite': 'old index' };
    await putTree(s3.client, bucket, '', old);
    const assets = {
      'web/index-000000000000000b.sqlite': 'new index',
      'web/assets/app-000000000000000b.js.br': 'app',
      'web/assets/sqlite.worker-000000000000000b.js.br': 'worker',
      'web/assets/sql-wasm-000000000000000b.wasm.br': 'wasm',
    };
    const page = { 'web/site.json': '{"files":["index-000000000000000b.sqlite","assets/…"]}', 'web/index.html': 'new page' };
    writeTree(site.paths.root, { ...assets, ...page }, new Date(Date.now() + 60_000));
    // The bucket rejects the wasm (one at a time, so the others before it went up).
    s3.proxy.rule = (r) => (r.method === 'PUT' && r.url.includes('sql-wasm-') ? { status: 400, code: 'InvalidArgument' } : 'pass');
    const failed = await uploadSite(ctx, { concurrency: 1 });
    expect(failed.problems).toEqual([
      expect.objectContaining({ file: 'web/assets/sql-wasm-000000000000000b.wasm.br', message: expect.stringContaining('InvalidArgument') }),
      {
        site: site.site.id,
        file: 'web/index.html',
        message: `web/index.html was held back because other uploads failed: s3://${bucket} keeps its previous one, which names only files it has`,
        fix: expect.stringContaining('fix the failures above and run the same target again'),
      },
      expect.objectContaining({ site: site.site.id, file: 'web/site.json', message: expect.stringContaining('web/site.json was held back') }),
    ]);
    const after = await bucketTree(s3.client, bucket, '');
    // The previous page is intact; the new files that made it are there, not yet named by anything.
    for (const [key, body] of Object.entries(old)) expect(after[key]).toBe(md5(body));
    expect(Object.keys(after)).toEqual(expect.arrayContaining(['web/index-000000000000000b.sqlite', 'web/assets/app-000000000000000b.js.br']));
    expect(after['web/assets/sql-wasm-000000000000000b.wasm.br']).toBeUndefined();
    // The pointers were never even tried.
    expect(s3.proxy.requests.filter((r) => r.method === 'PUT' && /web\/(site\.json|index\.html)/.test(r.url))).toEqual([]);

    // The fault is gone: the missing asset goes up, then index.html, then site.json, and nothing else again.
    s3.proxy.rule = () => 'pass';
    s3.proxy.requests.length = 0;
    const completed = await uploadSite(ctx, { concurrency: 1 });
    expect(completed.problems).toEqual([]);
    expect(completed.counts.uploaded).toBe(3);
    expect(s3.proxy.requests.filter((r) => r.method === 'PUT').map((r) => r.url.replace(/\?.*$/, '').split('/').slice(2).join('/'))).toEqual([
      'web/assets/sql-wasm-000000000000000b.wasm.br',
      'web/index.html',
      'web/site.json',
    ]);
    const tree = await bucketTree(s3.client, bucket, '');
    for (const [key, body] of Object.entries({ ...assets, ...page })) expect(tree[key]).toBe(md5(body));
    const again = await uploadSite(ctx);
    expect(again.problems).toEqual([]);
    expect(again.counts.uploaded).toBe(0);
  });

  it('a kill during a download leaves no file taken for complete; the next run completes it', async () => {
    const { bucket, site, ctx } = await s3.site();
    const big = randomBytes(4 * 1024 * 1024);
    await putTree(s3.client, bucket, '', { 'audio/show/big.mp3': big });
    s3.proxy.rule = (r) => (isObjectGet(r) ? { stallAfterBytes: 1024 * 1024 } : 'pass');
    const dir = path.dirname(site.paths.file('audio/show/big.mp3'));
    const child = spawnTs(path.join(__dirname, 'spec-presync-child.ts'), [JSON.stringify({ workspaceRoot: site.workspaceRoot, site: { ...site.site } })], {
      cwd: path.resolve(__dirname, '../../..'),
      stdio: 'ignore',
    });
    let ended = false;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve(void (ended = true))));
    // Wait until the child has written part of the body to its temp file, then kill it hard.
    const partial = () => {
      try {
        return readdirSync(dir).find((f) => f.endsWith(TEMP_SUFFIX) && statSync(path.join(dir, f)).size >= 1024 * 1024);
      } catch {
        return undefined;
      }
    };
    while (!partial()) {
      if (ended) throw new Error('the pre-sync child ended by itself before it could be killed');
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGKILL');
    await exited;
    expect(readdirSync(dir)).toEqual([partial()]);

    s3.proxy.rule = () => 'pass';
    const out = await preSync(ctx);
    expect(out.problems).toEqual([]);
    expect(out.counts).toMatchObject({ downloaded: 1, staleTempsRemoved: 1 });
    expect(readdirSync(dir)).toEqual(['big.mp3']);
    expect(md5(readFileSync(path.join(dir, 'big.mp3')))).toBe(md5(big));
  });
});
