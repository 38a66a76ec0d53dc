import { existsSync, readFileSync } from 'node:fs';
import { stateFile } from '@podline/config';
import { startLambdaServer, startStsServer, type LambdaServer, type StsServer } from '@podline/testing/aws-endpoints';
import { startS3Server, type S3TestServer } from '@podline/testing/s3-server';
import executor, { batch } from './executor';
import { episode, SRT_A, TestWorkspace } from './test-workspace';

async function runBatch(ws: TestWorkspace, ids: string[], options: Record<string, unknown> = {}) {
  const graph = ws.taskGraph(ids, 'index');
  const inputs = Object.fromEntries(Object.keys(graph.tasks).map((t) => [t, { ...options }]));
  const results: Record<string, { success: boolean; terminalOutput: string }> = {};
  for await (const r of batch(graph, inputs, {}, ws.context(ids[0], ids))) results[r.task.split(':')[0]] = r.result;
  return results;
}

describe('index executor, local mode', () => {
  let ws: TestWorkspace;
  beforeEach(() => (ws = new TestWorkspace()));
  afterEach(() => ws.dispose());

  it('builds entries and index, writes a deterministic state, and a dry-run changes nothing', async () => {
    const paths = ws.addSite({ id: 'garden', index: { kind: 'local' } });
    ws.writeManifest(paths, [episode('2024-03-01_tomatoes_abc', 'Tomatoes')]);
    ws.writeFile(paths.transcriptFile('show', '2024-03-01_tomatoes_abc'), SRT_A);

    const dry = await executor({ dryRun: true }, ws.context('garden'));
    expect(dry.success).toBe(true);
    expect(existsSync(stateFile(ws.root, 'garden', 'index'))).toBe(false);
    expect(existsSync(paths.searchIndexDir())).toBe(false);

    expect((await executor({}, ws.context('garden'))).success).toBe(true);
    const state = readFileSync(stateFile(ws.root, 'garden', 'index'), 'utf8');
    expect(JSON.parse(state)).toMatchObject({ kind: 'local', engine: 'sqlite-fts5', index: { episodes: 1, entries: 2 } });
    expect(existsSync(paths.searchEntriesFile('show', '2024-03-01_tomatoes_abc'))).toBe(true);

    expect((await executor({}, ws.context('garden'))).success).toBe(true);
    expect(readFileSync(stateFile(ws.root, 'garden', 'index'), 'utf8')).toBe(state);
  });

  it('a site without a manifest fails with the fix; other sites in the batch are indexed', async () => {
    const ok = ws.addSite({ id: 'ok-site' });
    ws.writeManifest(ok, [episode('2024-03-01_tomatoes_abc', 'Tomatoes')]);
    ws.writeFile(ok.transcriptFile('show', '2024-03-01_tomatoes_abc'), SRT_A);
    ws.addSite({ id: 'empty-site' });
    const results = await runBatch(ws, ['empty-site', 'ok-site']);
    expect(results['ok-site'].success).toBe(true);
    expect(results['empty-site'].success).toBe(false);
    expect(results['empty-site'].terminalOutput).toContain('site empty-site: no episode manifest at episode-manifest/full-episode-manifest.json — run `nx run empty-site:rss`');
  });
});

describe('index executor, Lambda mode (loopback STS + Lambda, real SDK clients)', () => {
  let ws: TestWorkspace;
  let sts: StsServer;
  let lambda: LambdaServer;
  let s3: S3TestServer;
  const roleA = 'arn:aws:iam::111111111111:role/podline-automation';
  const roleDenied = 'arn:aws:iam::333333333333:role/podline-automation';

  // The S3 site's bucket (empty: the stand-in functions write no index, so there is no page to publish yet).
  beforeAll(async () => {
    s3 = await startS3Server();
    await s3.createBucket('site-bucket');
  });
  afterAll(() => s3.stop());

  beforeEach(async () => {
    sts = await startStsServer({ deniedRoles: [roleDenied] });
    await s3.addAccessKey(sts.accessKeyFor(roleA), 'loopback');
    lambda = await startLambdaServer({
      functions: {
        'index-ok': (payload) => ({ indexed: (payload as { site: string }).site }),
        'index-broken': () => {
          throw new Error('transcripts/show/ep.srt: no readable SRT cue');
        },
      },
    });
    ws = new TestWorkspace();
    ws.write('.env.automation', `AWS_ACCESS_KEY_ID=AKIACENTRAL\nAWS_SECRET_ACCESS_KEY=central-secret\nAWS_REGION=us-east-1\nPODLINE_STS_ENDPOINT=${sts.url}\nPODLINE_LAMBDA_ENDPOINT=${lambda.url}\n`);
    const lambdaSite = (id: string, accountId: string, functionName: string) =>
      ws.addSite({ id, aws: { accountId, region: 'eu-west-1' }, index: { kind: 'lambda', functionName } });
    ws.addSite({
      id: 'uploaded',
      aws: { accountId: '111111111111', region: 'eu-west-1' },
      storage: { kind: 's3', bucket: 'site-bucket', region: 'eu-west-1', prefix: 'sites/uploaded', endpoint: s3.endpoint, forcePathStyle: true },
      index: { kind: 'lambda', functionName: 'index-ok' },
    });
    lambdaSite('uploaded-too', '111111111111', 'index-ok');
    lambdaSite('quiet', '111111111111', 'index-ok');
    lambdaSite('denied', '333333333333', 'index-ok');
    lambdaSite('unknown-fn', '111111111111', 'no-such-function');
    lambdaSite('broken', '111111111111', 'index-broken');
    for (const id of ['uploaded', 'uploaded-too', 'denied', 'unknown-fn', 'broken']) {
      ws.write(`.podline/state/${id}/upload.json`, JSON.stringify({ digest: `bucket-of-${id}` }) + '\n');
    }
  });
  afterEach(async () => {
    ws.dispose();
    await sts.close();
    await lambda.close();
  });

  const ids = ['uploaded', 'uploaded-too', 'quiet', 'denied', 'unknown-fn', 'broken'];

  it('invokes once per site with uploads, never for a site without; each failure is its own site\'s', async () => {
    const results = await runBatch(ws, ids);
    expect(Object.fromEntries(ids.map((id) => [id, results[id].success]))).toEqual({
      uploaded: true,
      'uploaded-too': true,
      quiet: true,
      denied: false,
      'unknown-fn': false,
      broken: false,
    });
    // one AssumeRole per role for the whole run, with the right ARNs and the central credentials
    expect(sts.calls.map((c) => c.roleArn).sort()).toEqual([roleA, roleDenied]);
    expect(new Set(sts.calls.map((c) => c.callerAccessKeyId))).toEqual(new Set(['AKIACENTRAL']));
    // invoked with the assumed role's session, once per site that uploaded something; never for "quiet" or "denied"
    expect(lambda.calls.map((c) => (c.payload as { site: string }).site).sort()).toEqual(['broken', 'unknown-fn', 'uploaded', 'uploaded-too']);
    expect(new Set(lambda.calls.map((c) => c.accessKeyId))).toEqual(new Set([sts.accessKeyFor(roleA)]));
    expect(lambda.calls.every((c) => c.invocationType === 'RequestResponse')).toBe(true);

    expect(results.denied.terminalOutput).toContain(`site denied: cannot assume role ${roleDenied}: AccessDenied`);
    expect(results['unknown-fn'].terminalOutput).toContain('site unknown-fn: Lambda function no-such-function not found (account 111111111111, region eu-west-1)');
    expect(results.broken.terminalOutput).toContain('site broken: function index-broken failed (Unhandled): Error: transcripts/show/ep.srt: no readable SRT cue');
    expect(Object.values(results).map((r) => r.terminalOutput).join('\n')).not.toContain('central-secret');

    const state = JSON.parse(readFileSync(stateFile(ws.root, 'uploaded', 'index'), 'utf8'));
    expect(state).toEqual({ kind: 'lambda', functionName: 'index-ok', inputDigest: expect.stringMatching(/^[0-9a-f]{64}$/) });
    // the function is told which bucket and which upload state it runs for
    expect(lambda.calls.find((c) => (c.payload as { site: string }).site === 'uploaded')!.payload).toEqual({
      site: 'uploaded',
      bucket: 'site-bucket',
      prefix: 'sites/uploaded',
      region: 'eu-west-1',
      endpoint: s3.endpoint,
      forcePathStyle: true,
      inputDigest: state.inputDigest,
    });
    expect(existsSync(stateFile(ws.root, 'broken', 'index'))).toBe(false); // failed: retried next run

    // Second run, nothing uploaded since: no invocation for the sites that succeeded; failures are retried.
    lambda.calls.length = 0;
    await runBatch(ws, ids);
    expect(lambda.calls.map((c) => (c.payload as { site: string }).site).sort()).toEqual(['broken', 'unknown-fn']);

    // A new upload state for one site: only it is invoked again.
    lambda.calls.length = 0;
    ws.write('.podline/state/uploaded/upload.json', JSON.stringify({ digest: 'changed' }) + '\n');
    await runBatch(ws, ['uploaded', 'uploaded-too', 'quiet']);
    expect(lambda.calls.map((c) => (c.payload as { site: string }).site)).toEqual(['uploaded']);
  });

  it('Event invocation as an option; --force invokes again; dry-run calls nothing', async () => {
    const dry = await runBatch(ws, ['uploaded'], { dryRun: true });
    expect(dry.uploaded.success).toBe(true);
    expect(dry.uploaded.terminalOutput).toContain(`would invoke index-ok (RequestResponse) as ${roleA}`);
    expect(sts.calls).toEqual([]);
    expect(lambda.calls).toEqual([]);
    expect(existsSync(stateFile(ws.root, 'uploaded', 'index'))).toBe(false);

    expect((await runBatch(ws, ['uploaded'], { invocationType: 'Event' })).uploaded.success).toBe(true);
    expect((await runBatch(ws, ['uploaded'], { force: true })).uploaded.success).toBe(true);
    expect(lambda.calls.map((c) => c.invocationType)).toEqual(['Event', 'RequestResponse']);
  });
});
