/**
 * The packaged Lambda (tools/scripts/bundle-lambda.js) runs on its own: a child process with nothing but
 * the package loads it from a folder outside this repository and indexes a bucket on the S3 test server.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { keys, stableStringify } from '@podline/config';
import { startS3Server, S3_TEST_CREDENTIALS, type S3TestServer } from '@podline/testing/s3-server';
import { S3ObjectStore } from './object-store';

const ROOT = path.resolve(__dirname, '..', '..', '..');
jest.setTimeout(120_000);

describe('the packaged Lambda', () => {
  let s3: S3TestServer;
  let dir: string;
  beforeAll(async () => {
    s3 = await startS3Server();
    dir = mkdtempSync(path.join(os.tmpdir(), 'podline-lambda-pkg-'));
  });
  afterAll(async () => {
    await s3?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('bundles, loads outside the repository, and indexes a bucket', async () => {
    const pkg = path.join(dir, 'package');
    const built = spawnSync(process.execPath, [path.join(ROOT, 'tools', 'scripts', 'bundle-lambda.js'), `--outdir=${pkg}`], { encoding: 'utf8' });
    expect(built.stderr).toBe('');
    expect(built.status).toBe(0);

    await s3.createBucket('site-bucket');
    const store = new S3ObjectStore(s3.client(), 'site-bucket', '');
    await store.put(
      keys.manifest(),
      stableStringify({ version: 1, site: 'demo', episodes: [{ id: 'g1', idSource: 'guid', podcast: 'show', fileKey: '2024-01-01_bees_1', title: 'Bees', status: 'downloaded' }] }),
    );
    await store.put(keys.transcript('show', '2024-01-01_bees_1'), '1\n00:00:00,000 --> 00:00:04,000\nHoney bees dance to show the way.\n');

    const script = `require(${JSON.stringify(path.join(pkg, 'index.js'))}).handler({}, {}).then((r) => console.log(JSON.stringify(r)), (e) => { console.error(e.message); process.exit(1); })`;
    const run = spawnSync(process.execPath, ['-e', script], {
      cwd: dir,
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH,
        PODLINE_SITE_ID: 'demo',
        PODLINE_BUCKET: 'site-bucket',
        PODLINE_S3_ENDPOINT: s3.endpoint,
        PODLINE_WORK_DIR: path.join(dir, 'work'),
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: S3_TEST_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: S3_TEST_CREDENTIALS.secretAccessKey,
      },
    });
    if (run.status !== 0) throw new Error(`the packaged handler failed:\n${run.stderr}`);
    const response = JSON.parse(run.stdout.trim().split('\n').pop()!);
    expect(response.site).toBe('demo');
    expect(response.uploaded).toEqual(expect.arrayContaining([keys.searchEntries('show', '2024-01-01_bees_1'), keys.searchIndex()]));
    expect(await store.get(keys.searchIndex())).toBeTruthy();
  });
});
