import type { ExecutorContext, TaskGraph } from '@nx/devkit';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { MANIFEST_KEY, stateFile } from '@podline/config';
import { S3_TEST_CREDENTIALS, startS3Server, type S3TestServer } from '@podline/testing/s3-server';
import { startStsServer } from '@podline/testing/aws-endpoints';
import check from '../check/executor';
import preSync, { batch as preSyncBatch } from '../pre-sync/executor';
import upload, { batch as uploadBatch } from './executor';

/** The three sync executors end to end: options -> engine -> state file and exit status. */
describe('pre-sync, check and upload executors', () => {
  let server: S3TestServer;
  let root: string;
  const env = { ...process.env };

  beforeAll(async () => {
    server = await startS3Server();
    await server.createBucket('exec-bucket');
  });
  afterAll(() => server.stop());
  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), 'sync-exec-'));
    writeFileSync(path.join(root, 'nx.json'), '{}');
    delete process.env.PODLINE_DATA_DIR;
    process.env.PODLINE_RUN_ID = 'exec-run';
    // The S3 site gets its endpoint and credentials the way an end-to-end run does: from the environment.
    process.env.PODLINE_S3_ENDPOINT = server.endpoint;
    process.env.AWS_ACCESS_KEY_ID = S3_TEST_CREDENTIALS.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = S3_TEST_CREDENTIALS.secretAccessKey;
  });
  afterEach(() => {
    process.env = { ...env };
    rmSync(root, { recursive: true, force: true });
  });

  function writeSite(id: string, storage?: unknown) {
    const dir = path.join(root, 'sites', id);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'site.config.json'), JSON.stringify({ id, title: id, podcasts: [{ id: 'show', title: 'Show', feedUrl: 'http://127.0.0.1:1/feed.xml' }], storage }));
  }
  function writeData(site: string, files: Record<string, string>) {
    for (const [key, body] of Object.entries(files)) {
      const file = path.join(root, 'data', site, ...key.split('/'));
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, body);
    }
  }
  function context(...sites: string[]): ExecutorContext {
    const projects = Object.fromEntries(sites.map((s) => [s, { root: `sites/${s}` }]));
    return { root, projectName: sites[0], projectsConfigurations: { version: 2, projects }, cwd: root, isVerbose: false } as unknown as ExecutorContext;
  }
  const readState = (site: string, target: string) => JSON.parse(readFileSync(stateFile(root, site, target), 'utf8'));

  it('local default: upload fills data/.bucket/<site>, check finds both sides in step, dry-run writes no state', async () => {
    writeSite('alpha');
    writeData('alpha', { 'transcripts/show/a.srt': 'sub', [MANIFEST_KEY]: '{}' });
    expect(await preSync({ dryRun: true }, context('alpha'))).toEqual({ success: true });
    expect(existsSync(stateFile(root, 'alpha', 'pre-sync'))).toBe(false);
    expect(await upload({}, context('alpha'))).toEqual({ success: true });
    expect(readFileSync(path.join(root, 'data', '.bucket', 'alpha', 'transcripts', 'show', 'a.srt'), 'utf8')).toBe('sub');
    expect(readState('alpha', 'upload')).toMatchObject({ storage: { kind: 'local' }, bucket: { transcripts: { objects: 1, bytes: 3 } } });
    expect(await check({}, context('alpha'))).toEqual({ success: true });
    expect(readState('alpha', 'check').folders.transcripts).toEqual({ onlyLocal: [], onlyBucket: [], differing: [] });
  });

  it('two S3 sites in one pre-sync batch; a missing bucket fails only its own task', async () => {
    writeSite('beta', { kind: 's3', bucket: 'exec-bucket', region: 'us-east-1', prefix: 'beta' });
    writeSite('gamma', { kind: 's3', bucket: 'not-created', region: 'us-east-1' });
    writeData('beta', { 'audio/show/e.mp3': 'mp3 bytes' });
    expect(await upload({ concurrency: 2 }, context('beta'))).toEqual({ success: true });
    const listed = await server.client().send(new ListObjectsV2Command({ Bucket: 'exec-bucket', Prefix: 'beta/' }));
    expect(listed.Contents?.map((o) => o.Key)).toEqual(['beta/audio/show/e.mp3']);

    rmSync(path.join(root, 'data', 'beta', 'audio'), { recursive: true });
    const tasks = {
      'beta:pre-sync': { id: 'beta:pre-sync', target: { project: 'beta', target: 'pre-sync' } },
      'gamma:pre-sync': { id: 'gamma:pre-sync', target: { project: 'gamma', target: 'pre-sync' } },
    };
    const results: Record<string, boolean> = {};
    for await (const r of preSyncBatch({ tasks } as unknown as TaskGraph, { 'beta:pre-sync': {}, 'gamma:pre-sync': {} }, {}, context('beta', 'gamma'))) {
      results[r.task] = r.result.success;
      if (r.task === 'gamma:pre-sync') expect(r.result.terminalOutput).toContain('bucket "not-created" does not exist');
    }
    expect(results).toEqual({ 'beta:pre-sync': true, 'gamma:pre-sync': false });
    expect(readFileSync(path.join(root, 'data', 'beta', 'audio', 'show', 'e.mp3'), 'utf8')).toBe('mp3 bytes');
    expect(readState('beta', 'pre-sync')).toMatchObject({ storage: { kind: 's3', bucket: 'exec-bucket', prefix: 'beta' } });
    expect(existsSync(stateFile(root, 'gamma', 'pre-sync'))).toBe(false);
  });

  it("a site with an AWS account syncs through its automation role, assumed once per run for the account's sites", async () => {
    const sts = await startStsServer({ deniedRoles: ['arn:aws:iam::222222222222:role/podline-automation'] });
    try {
      process.env.PODLINE_STS_ENDPOINT = sts.url;
      const role = 'arn:aws:iam::111111111111:role/podline-automation';
      const key = sts.accessKeyFor(role);
      await server.addAccessKey(key, `secret-${key}`);
      const aws = (accountId: string) => ({ kind: 's3', bucket: 'exec-bucket', region: 'us-east-1', prefix: accountId });
      for (const [id, account] of [['one', '111111111111'], ['two', '111111111111'], ['denied', '222222222222']]) {
        writeSite(id, aws(`${id}`));
        const file = path.join(root, 'sites', id, 'site.config.json');
        writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), aws: { accountId: account } }));
        writeData(id, { [`transcripts/show/${id}.srt`]: id });
      }
      const tasks = Object.fromEntries(['one', 'two', 'denied'].map((id) => [`${id}:upload`, { id: `${id}:upload`, target: { project: id, target: 'upload' } }]));
      const results: Record<string, { success: boolean; terminalOutput: string }> = {};
      const inputs = Object.fromEntries(Object.keys(tasks).map((t) => [t, {}]));
      for await (const r of uploadBatch({ tasks } as unknown as TaskGraph, inputs, {}, context('one', 'two', 'denied'))) results[r.task] = r.result;
      expect(Object.fromEntries(Object.entries(results).map(([k, v]) => [k, v.success]))).toEqual({ 'one:upload': true, 'two:upload': true, 'denied:upload': false });
      expect(results['denied:upload'].terminalOutput).toContain('cannot assume role arn:aws:iam::222222222222:role/podline-automation');
      expect(results['denied:upload'].terminalOutput).toContain('sts:AssumeRole');
      // The central credentials asked STS; one AssumeRole for the two sites of account 111111111111.
      expect(sts.calls.filter((c) => c.roleArn === role)).toEqual([{ callerAccessKeyId: 'S3RVER', roleArn: role, roleSessionName: expect.stringMatching(/^podline-(one|two)$/) }]);
      const listed = await server.client().send(new ListObjectsV2Command({ Bucket: 'exec-bucket' }));
      const keys = (listed.Contents ?? []).map((o) => o.Key);
      expect(keys).toEqual(expect.arrayContaining(['one/transcripts/show/one.srt', 'two/transcripts/show/two.srt']));
      expect(keys.some((k) => k?.startsWith('denied/'))).toBe(false);
    } finally {
      await sts.close();
    }
  });
});
