/**
 * pruneSite removes exactly the keys its rule names, in one folder, on both backends; a dry run lists them
 * and removes nothing. The search page's files are owned (web/), and precompressed ones keep their encoding.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { contentEncodingFor, contentTypeFor } from './content-type';
import { isOwnedKey } from './owned';
import { bucketTree, makeSite, putTree, useS3, writeTree } from './spec-fixtures';
import { pruneSite, uploadSite } from './sync';

const s3 = useS3('prune');

const TREE = {
  'web/index.html': '<!doctype html>',
  'web/site.json': '{}',
  'web/index-0000000000000001.sqlite': 'old index',
  'web/index-0000000000000002.sqlite': 'current index',
  'web/assets/app-0000000000000001.js.br': 'old script',
  'web/custom.css': 'the operator’s own file',
  'audio/show/ep-0000000000000001.mp3': 'audio',
};
const OLD = new Set(['web/index-0000000000000001.sqlite', 'web/assets/app-0000000000000001.js.br']);
// The rule a caller passes (the search page names its own versions); pruneSite must not look beyond its folder.
const obsolete = (key: string) => OLD.has(key) || key.startsWith('audio/');

describe('pruneSite', () => {
  it('on S3: a dry run lists and keeps; the run removes only the named keys of the folder; twice changes nothing', async () => {
    const { bucket, ctx, site } = await s3.site({ prefix: 'sites/p' });
    await putTree(s3.client, bucket, 'sites/p', TREE);
    const dry = await pruneSite(ctx, { folder: 'web', obsolete, dryRun: true });
    expect(dry.counts.wouldRemove).toBe(2);
    expect(site.log.lines.filter((l) => l.includes('would remove'))).toEqual([
      `info: would remove web/assets/app-0000000000000001.js.br from s3://${bucket}/sites/p`,
      `info: would remove web/index-0000000000000001.sqlite from s3://${bucket}/sites/p`,
    ]);
    expect(Object.keys(await bucketTree(s3.client, bucket, 'sites/p'))).toEqual(Object.keys(TREE).sort());

    const run = await pruneSite(ctx, { folder: 'web', obsolete });
    expect(run.problems).toEqual([]);
    expect(run.counts.removed).toBe(2);
    expect(Object.keys(await bucketTree(s3.client, bucket, 'sites/p'))).toEqual(Object.keys(TREE).filter((k) => !OLD.has(k)).sort());
    expect((await pruneSite(ctx, { folder: 'web', obsolete })).counts.removed).toBeUndefined();
  });

  it('on the local-folder bucket: the same, never following the folder out', async () => {
    const shared = mkdtempSync(path.join(os.tmpdir(), 'podline-prune-bucket-'));
    const machine = s3.track(makeSite({ kind: 'local', path: shared }));
    try {
      writeTree(shared, TREE);
      expect((await pruneSite(machine.ctx(), { folder: 'web', obsolete, dryRun: true })).counts.wouldRemove).toBe(2);
      expect(existsSync(path.join(shared, 'web', 'index-0000000000000001.sqlite'))).toBe(true);
      const run = await pruneSite(machine.ctx(), { folder: 'web', obsolete });
      expect(run.counts.removed).toBe(2);
      for (const key of Object.keys(TREE)) expect([key, existsSync(path.join(shared, ...key.split('/')))]).toEqual([key, !OLD.has(key)]);
    } finally {
      rmSync(shared, { recursive: true, force: true });
    }
  });

  it('web/ is owned; its precompressed files go up with their Content-Encoding and type', async () => {
    expect(isOwnedKey('web/site.json')).toBe(true);
    expect(isOwnedKey('web/assets/app-0000000000000001.js.br')).toBe(true);
    expect(isOwnedKey('audio/show/ep.mp3')).toBe(false);
    expect(contentEncodingFor('web/assets/sql-wasm-0000000000000001.wasm.br')).toBe('br');
    expect(contentTypeFor('web/assets/sql-wasm-0000000000000001.wasm.br')).toBe('application/wasm');
    expect(contentEncodingFor('audio/show/ep.mp3.br')).toBeUndefined(); // only the page's files
    expect(contentEncodingFor('web/index-0000000000000001.sqlite')).toBeUndefined();

    const { bucket, ctx, site } = await s3.site();
    writeTree(site.paths.root, { 'web/assets/app-0000000000000001.js.br': 'br bytes', 'web/site.json': '{}' });
    const up = await uploadSite(ctx, { folders: ['web'] });
    expect(up.problems).toEqual([]);
    const head = await s3.client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'web/assets/app-0000000000000001.js.br' }));
    expect([head.ContentEncoding, head.ContentType]).toEqual(['br', 'text/javascript; charset=utf-8']);
    const json = await s3.client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'web/site.json' }));
    expect(json.ContentEncoding).toBeUndefined();
  });
});
