/**
 * A site indexed by its Lambda gets its search page too: the real indexing handler runs in-process behind
 * the loopback Lambda endpoint, against the S3-compatible test server; `index` then builds the page from the
 * index the function left in the bucket, publishes web/ (precompressed assets with Content-Encoding), keeps
 * the previous version and removes older ones, and nothing else.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { keys, stableStringify } from '@podline/config';
import { indexSite, S3ObjectStore } from '@podline/search-index';
import { startLambdaServer, startStsServer, type LambdaServer, type StsServer } from '@podline/testing/aws-endpoints';
import { S3_TEST_CREDENTIALS, startFaultProxy, startS3Server, type FaultProxy, type S3TestServer } from '@podline/testing/s3-server';
import { fileReadAt, searchWebIndex, WebIndex, type SiteJson } from '@podline/web';
import { batch } from './executor';
import { episode, TestWorkspace } from './test-workspace';

const ROLE = 'arn:aws:iam::111111111111:role/podline-automation';
const BUCKET = 'lambda-pages';
const PREFIX = 'sites/lam';
const SRT = (text: string) => `1\n00:00:01,000 --> 00:00:05,000\n${text}\n\n2\n00:00:05,000 --> 00:00:09,000\nAnd that is all.\n`;

describe('index, Lambda mode: the search page from the index the function wrote', () => {
  let ws: TestWorkspace;
  let s3: S3TestServer;
  let client: S3Client;
  let proxy: FaultProxy;
  let sts: StsServer;
  let lambda: LambdaServer;
  let work: string;

  beforeAll(async () => {
    s3 = await startS3Server();
    client = s3.client();
    proxy = await startFaultProxy(s3.endpoint);
  });
  afterAll(async () => {
    await proxy.stop();
    await s3.stop();
  });

  beforeEach(async () => {
    work = mkdtempSync(path.join(os.tmpdir(), 'podline-lambda-work-'));
    sts = await startStsServer();
    await s3.addAccessKey(sts.accessKeyFor(ROLE), 'loopback');
    // The function: the real handler, with its own credentials (the test server's key), as its execution role would be.
    lambda = await startLambdaServer({ functions: { 'index-real': (payload) => indexSite(payload as Parameters<typeof indexSite>[0], { PODLINE_WORK_DIR: work, AWS_REGION: 'us-east-1' }) } });
    ws = new TestWorkspace();
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: S3_TEST_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: S3_TEST_CREDENTIALS.secretAccessKey });
    ws.write('.env.automation', `AWS_ACCESS_KEY_ID=AKIACENTRAL\nAWS_SECRET_ACCESS_KEY=central-secret\nAWS_REGION=us-east-1\nPODLINE_STS_ENDPOINT=${sts.url}\nPODLINE_LAMBDA_ENDPOINT=${lambda.url}\n`);
    await s3.createBucket(BUCKET).catch(() => undefined);
    proxy.rule = () => 'pass';
  });
  afterEach(async () => {
    ws.dispose();
    await sts.close();
    await lambda.close();
    rmSync(work, { recursive: true, force: true });
  });

  const run = async (options: Record<string, unknown> = {}) => {
    const graph = ws.taskGraph(['lam'], 'index');
    const inputs = Object.fromEntries(Object.keys(graph.tasks).map((t) => [t, { ...options }]));
    let out: { success: boolean; terminalOutput: string } | undefined;
    for await (const r of batch(graph, inputs, {}, ws.context('lam', ['lam']))) out = r.result;
    return out!;
  };
  const list = async () => {
    const res = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${PREFIX}/web/` }));
    return Object.fromEntries((res.Contents ?? []).map((o) => [o.Key!.slice(PREFIX.length + 1), o.ETag!])) as Record<string, string>;
  };
  const get = async (key: string) => Buffer.from(await (await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: `${PREFIX}/${key}` }))).Body!.transformToByteArray());
  const siteJson = async () => JSON.parse((await get('web/site.json')).toString()) as SiteJson;
  /** New content in the bucket and a new upload state, as upload leaves them. */
  const uploadTranscript = async (store: S3ObjectStore, text: string, n: number) => {
    await store.put(keys.transcript('show', '2024-03-01_a_x'), SRT(text));
    ws.write('.podline/state/lam/upload.json', JSON.stringify({ digest: `upload-${n}` }) + '\n');
  };

  it('publishes the page, keeps the version before, removes older ones it wrote, and only those', async () => {
    ws.addSite({
      id: 'lam',
      aws: { accountId: '111111111111', region: 'us-east-1' },
      storage: { kind: 's3', bucket: BUCKET, region: 'us-east-1', prefix: PREFIX, endpoint: s3.endpoint, forcePathStyle: true },
      index: { kind: 'lambda', functionName: 'index-real' },
    });
    const store = new S3ObjectStore(client, BUCKET, PREFIX);
    await store.put(keys.manifest(), stableStringify({ version: 1, site: 'lam', episodes: [episode('2024-03-01_a_x', 'Foghorns at dawn')] }));
    await uploadTranscript(store, 'The foghorn sounded twice.', 1);

    const dry = await run({ dryRun: true });
    expect(dry.success).toBe(true);
    expect(dry.terminalOutput).toContain('would then publish the search page');
    expect(await list()).toEqual({});

    const first = await run();
    expect(first.success).toBe(true);
    expect(lambda.calls).toHaveLength(1);
    const v1 = await siteJson();
    expect(Object.keys(await list()).sort()).toEqual(['web/index.html', 'web/site.json', ...v1.files!.map((f) => `web/${f}`)].sort());
    const script = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `${PREFIX}/web/${v1.assets.app}` }));
    expect([script.ContentEncoding, script.ContentType]).toEqual(['br', 'text/javascript; charset=utf-8']);
    // The page's index answers as the function's index does.
    const file = path.join(work, 'web.sqlite');
    writeFileSync(file, await get(`web/${v1.index.file}`));
    const local = fileReadAt(file);
    try {
      const found = await searchWebIndex(await WebIndex.open(local.readAt, local.bytes), 'foghorn', { rankCap: v1.index.rankCap, limit: v1.index.limit });
      expect(found.hits.map((h) => [h.episode.title, h.startMs])).toEqual([['Foghorns at dawn', 1000]]);
    } finally {
      local.close();
    }

    // Nothing new: not invoked, nothing written to the bucket.
    const before = await list();
    const again = await run();
    expect(again.success).toBe(true);
    expect(again.terminalOutput).toContain('already ran for this upload state');
    expect(again.terminalOutput).not.toContain('search page: wrote');
    expect(await list()).toEqual(before);

    // A new transcript: a new index; the previous version stays.
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${PREFIX}/web/custom.css`, Body: 'the operator’s own' }));
    await uploadTranscript(store, 'The lighthouse keeper waved.', 2);
    expect((await run()).success).toBe(true);
    const v2 = await siteJson();
    expect(v2.index.file).not.toBe(v1.index.file);
    expect(v2.previous).toEqual(v1.files);
    expect(Object.keys(await list())).toEqual(expect.arrayContaining([`web/${v1.index.file}`, `web/${v2.index.file}`, 'web/custom.css']));

    // Once more: the first version goes, the second stays, the operator's file stays.
    await uploadTranscript(store, 'Gulls over the harbour.', 3);
    const third = await run();
    expect(third.success).toBe(true);
    const v3 = await siteJson();
    expect(v3.previous).toEqual(v2.files);
    expect(Object.keys(await list()).sort()).toEqual(['web/custom.css', 'web/index.html', 'web/site.json', ...new Set([...v2.files!, ...v3.files!].map((f) => `web/${f}`))].sort());
    expect(lambda.calls).toHaveLength(3);
  });
  it('publishes in two phases: a failed upload leaves the previous site.json, which names only objects the bucket has; the next run completes it', async () => {
    const prefix = 'sites/faulty';
    ws.addSite({
      id: 'lam',
      aws: { accountId: '111111111111', region: 'us-east-1' },
      // Through the fault proxy: the bucket refuses what the test says.
      storage: { kind: 's3', bucket: BUCKET, region: 'us-east-1', prefix, endpoint: proxy.endpoint, forcePathStyle: true },
      index: { kind: 'lambda', functionName: 'index-real' },
    });
    const keysUnder = async () => {
      const res = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${prefix}/web/` }));
      return Object.fromEntries((res.Contents ?? []).map((o) => [o.Key!.slice(prefix.length + 1), o.ETag!])) as Record<string, string>;
    };
    const bucketSiteJson = async () =>
      JSON.parse(Buffer.from(await (await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: `${prefix}/web/site.json` }))).Body!.transformToByteArray()).toString()) as SiteJson;
    /** Every file the bucket's site.json names (this version's and the previous one's) is in the bucket. */
    const expectComplete = async () => {
      const json = await bucketSiteJson();
      const present = await keysUnder();
      expect([...json.files!, ...(json.previous ?? [])].filter((f) => !present[`web/${f}`])).toEqual([]);
      return json;
    };
    const store = new S3ObjectStore(client, BUCKET, prefix);
    await store.put(keys.manifest(), stableStringify({ version: 1, site: 'lam', episodes: [episode('2024-03-01_a_x', 'Foghorns at dawn')] }));
    await uploadTranscript(store, 'The foghorn sounded twice.', 1);
    expect((await run()).success).toBe(true);
    const v1 = await expectComplete();

    // New content; the bucket refuses the new web index (the page's assets are unchanged, already there).
    await uploadTranscript(store, 'The lighthouse keeper waved.', 2);
    proxy.rule = (r) => (r.method === 'PUT' && /\/web\/index-[0-9a-f]{16}\.sqlite/.test(r.url) ? { status: 400, code: 'InvalidArgument' } : 'pass');
    const failed = await run();
    expect(failed.success).toBe(false);
    expect(failed.terminalOutput).toContain('web/site.json was held back because other uploads failed');
    expect(failed.terminalOutput).toContain('fix the failures above and run the same target again');
    expect(await bucketSiteJson()).toEqual(v1);
    await expectComplete();
    expect(proxy.requests.filter((r) => r.method === 'PUT' && r.url.includes('/web/site.json'))).toHaveLength(1); // the first run's only

    // The fault is gone: the next run sends the index, then site.json, and prunes nothing the bucket's page needs.
    proxy.rule = () => 'pass';
    proxy.requests.length = 0;
    const completed = await run();
    expect(completed.success).toBe(true);
    const v2 = await expectComplete();
    expect(v2.index.file).not.toBe(v1.index.file);
    expect(v2.previous).toEqual(v1.files);
    const puts = proxy.requests.filter((r) => r.method === 'PUT').map((r) => r.url.replace(/\?.*$/, '').slice(`/${BUCKET}/${prefix}/`.length));
    expect(puts).toEqual([`web/${v2.index.file}`, 'web/site.json']);

    // Once more: nothing is sent.
    proxy.requests.length = 0;
    const before = await keysUnder();
    const again = await run();
    expect(again.success).toBe(true);
    expect(proxy.requests.filter((r) => r.method === 'PUT' || r.method === 'DELETE')).toEqual([]);
    expect(await keysUnder()).toEqual(before);

    // Held back again (v3), then new content (v4) goes up: the version that stayed live meanwhile (v2) is kept
    // for the tabs open on it, though this machine's previous version (v3) never was live.
    await uploadTranscript(store, 'Gulls over the harbour.', 3);
    proxy.rule = (r) => (r.method === 'PUT' && /\/web\/index-[0-9a-f]{16}\.sqlite/.test(r.url) ? { status: 400, code: 'InvalidArgument' } : 'pass');
    expect((await run()).success).toBe(false);
    expect(await bucketSiteJson()).toEqual(v2);
    proxy.rule = () => 'pass';
    await uploadTranscript(store, 'Seals on the rocks.', 4);
    expect((await run()).success).toBe(true);
    const v4 = await expectComplete();
    expect(v4.index.file).not.toBe(v2.index.file);
    const present = await keysUnder();
    expect(v2.files!.filter((f) => !present[`web/${f}`])).toEqual([]);
    expect(v4.previous).toEqual(expect.arrayContaining(v2.files!));
    // v1 is two versions back now: gone.
    expect(present[`web/${v1.index.file}`]).toBeUndefined();
  });
});
