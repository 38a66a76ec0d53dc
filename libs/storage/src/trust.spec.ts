import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { localBucketDir } from '@podline/config';
import { makeSite, md5, putTree, readTree, useS3, writeTree, type TestSite } from './spec-fixtures';
import { checkSite, preSync, uploadSite } from './sync';
import { failWrites } from '@podline/testing/disk-faults';

/**
 * The bucket's contents are untrusted and the disk can fail: odd keys, symbolic links on either side, temp files
 * of killed uploads in a local bucket, and a full or read-only disk.
 */

jest.mock('node:fs', () => require('@podline/testing/disk-faults').fsWithFailingWrites(jest.requireActual('node:fs')));

const s3 = useS3('trust');
const sites: TestSite[] = [];
afterAll(() => sites.forEach((s) => s.cleanup()));
const localSite = (bucketPath?: string) => {
  const s = makeSite(bucketPath ? { kind: 'local', path: bucketPath } : { kind: 'local' });
  sites.push(s);
  return s;
};
const warnings = (s: TestSite) => s.log.lines.filter((l) => l.startsWith('warn: '));

/** Every file under a folder outside the data folder and bucket, with content: "nothing written or read there". */
function outsideFolder(): { dir: string; snapshot: () => Record<string, string> } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'podline-outside-'));
  writeFileSync(path.join(dir, 'passwd'), 'root:x:0:0');
  mkdirSync(path.join(dir, 'show'));
  writeFileSync(path.join(dir, 'show', 'private.xml'), '<secret/>');
  return { dir, snapshot: () => readTree(dir, true) };
}

describe('bucket keys that cannot be stored locally', () => {
  it('a..b.mp3 is a normal name; an over-long name and a file/folder clash are skipped with a warning, and the site carries on', async () => {
    const site = localSite();
    const ctx = site.ctx();
    const long = `audio/show/${'x'.repeat(240)}.mp3`;
    writeTree(localBucketDir(site.site, site.workspaceRoot, site.env), {
      'audio/show/a..b.mp3': 'dots',
      'audio/show/ep..1..mp3': 'more dots',
      [long]: 'long',
      'transcripts/show/clash': 'I am a file, but this machine has a folder of that name',
      'rss/show.xml': '<rss/>',
    });
    writeTree(site.paths.root, { 'transcripts/show/clash/inner.srt': 'local' });
    for (let run = 1; run <= 2; run++) {
      site.log.lines.length = 0;
      const out = await preSync(ctx);
      // Never a problem: the site's later phases are not held back by a key it cannot store.
      expect(out.problems).toEqual([]);
      expect(readFileSync(site.paths.file('audio/show/a..b.mp3'), 'utf8')).toBe('dots');
      expect(readFileSync(site.paths.file('audio/show/ep..1..mp3'), 'utf8')).toBe('more dots');
      expect(warnings(site)).toContainEqual(expect.stringMatching(new RegExp(`bucket key "${long}" cannot be stored as a local file \\(a name in it is 244 bytes long.*\\): skipped`)));
      expect(warnings(site)).toContainEqual(expect.stringMatching(/bucket key "transcripts\/show\/clash" cannot be stored as a local file \(EISDIR\): skipped; rename it in the bucket/));
      expect(readFileSync(site.paths.file('transcripts/show/clash/inner.srt'), 'utf8')).toBe('local');
      expect(out.counts).toMatchObject({ downloaded: run === 1 ? 3 : 0, unstorableSkipped: 2 });
    }
    // check and upload carry on too.
    expect((await checkSite(ctx)).problems).toEqual([]);
    expect((await uploadSite(ctx)).problems).toEqual([]);
  });

  it('a..b.mp3 from S3 is stored like any name', async () => {
    const { bucket, site, ctx, prefix } = await s3.site({ prefix: 'odd' });
    await putTree(s3.client, bucket, prefix, { 'audio/show/a..b.mp3': 'dots', 'transcripts/show/x..srt': 'sub' });
    const out = await preSync(ctx);
    expect(out.problems).toEqual([]);
    expect(out.counts).toMatchObject({ downloaded: 2 });
    expect(readTree(site.paths.root)).toEqual({ 'audio/show/a..b.mp3': md5('dots'), 'transcripts/show/x..srt': md5('sub') });
  });

  it('a key with a ".." part from a local bucket is never written above the data folder', async () => {
    const a = localSite();
    writeTree(a.paths.root, { 'audio/show/a..b.mp3': 'dots' });
    const up = await uploadSite(a.ctx());
    expect(up.problems).toEqual([]);
    const bucketDir = localBucketDir(a.site, a.workspaceRoot, a.env);
    expect(readFileSync(path.join(bucketDir, 'audio', 'show', 'a..b.mp3'), 'utf8')).toBe('dots');
    const b = localSite(bucketDir);
    expect((await preSync(b.ctx())).counts).toMatchObject({ downloaded: 1 });
    expect(readFileSync(b.paths.file('audio/show/a..b.mp3'), 'utf8')).toBe('dots');
  });
});

describe('symbolic links are never followed, in either direction', () => {
  it('a local bucket whose rss/ links to another folder: pre-sync copies nothing from it, upload writes nothing into it', async () => {
    const outside = outsideFolder();
    const before = outside.snapshot();
    const a = localSite();
    const bucketDir = localBucketDir(a.site, a.workspaceRoot, a.env);
    writeTree(bucketDir, { 'audio/show/ok.mp3': 'fine' });
    symlinkSync(outside.dir, path.join(bucketDir, 'rss'));
    // And a linked file deeper down.
    symlinkSync(path.join(outside.dir, 'passwd'), path.join(bucketDir, 'audio', 'show', 'passwd.mp3'));

    const down = await preSync(a.ctx());
    expect(down.problems).toEqual([]);
    expect(down.counts).toMatchObject({ downloaded: 1, symlinksSkipped: 2 });
    expect(readTree(a.paths.root)).toEqual({ 'audio/show/ok.mp3': md5('fine') });
    expect(warnings(a)).toEqual(
      expect.arrayContaining([
        `warn: ${path.join(bucketDir, 'rss')} is a symbolic link: skipped, not followed (Podline never follows links in data folders and buckets); replace it with a real folder or file`,
        expect.stringContaining(`${path.join(bucketDir, 'audio', 'show', 'passwd.mp3')} is a symbolic link: skipped`),
      ]),
    );

    // Upload of a local rss/ file must not land in the linked folder.
    writeTree(a.paths.root, { 'rss/show.xml': '<rss>mine</rss>' });
    a.log.lines.length = 0;
    const up = await uploadSite(a.ctx());
    expect(up.problems).toEqual([]);
    expect(up.counts).toMatchObject({ symlinksSkipped: 2 });
    expect(warnings(a)).toContainEqual(expect.stringContaining(`${path.join(bucketDir, 'rss')} is a symbolic link: skipped`));
    expect(outside.snapshot()).toEqual(before);
    expect(lstatSync(path.join(bucketDir, 'rss')).isSymbolicLink()).toBe(true);
  });

  it('a data folder whose search-entries/ links elsewhere: not uploaded from, not downloaded into', async () => {
    const outside = outsideFolder();
    const before = outside.snapshot();
    const a = localSite();
    const bucketDir = localBucketDir(a.site, a.workspaceRoot, a.env);
    writeTree(bucketDir, { 'search-entries/show/ep.json': '{"from":"bucket"}' });
    mkdirSync(a.paths.root, { recursive: true });
    symlinkSync(outside.dir, path.join(a.paths.root, 'search-entries'));
    const down = await preSync(a.ctx());
    expect(down.problems).toEqual([]);
    expect(down.counts).toMatchObject({ symlinksSkipped: 1 });
    expect(warnings(a)).toContainEqual(expect.stringContaining(`${path.join(a.paths.root, 'search-entries')} is a symbolic link: skipped`));
    const up = await uploadSite(a.ctx());
    expect(up.problems).toEqual([]);
    expect(readTree(bucketDir)).toEqual({ 'search-entries/show/ep.json': md5('{"from":"bucket"}') });
    expect(outside.snapshot()).toEqual(before);
  });
});

describe('temp files of killed uploads in a local bucket', () => {
  it('are removed by the next upload when their writer is gone; a live writer\'s are kept', async () => {
    const a = localSite();
    const bucketDir = localBucketDir(a.site, a.workspaceRoot, a.env);
    const dead = `.ep.mp3.999999999.0badc0de.podline-tmp`;
    const live = `.ep2.mp3.${process.pid}.0badc0de.podline-tmp`;
    writeTree(bucketDir, { [`audio/show/${dead}`]: 'half', [`audio/show/${live}`]: 'in flight' });
    writeTree(a.paths.root, { 'audio/show/ep.mp3': 'whole' });
    const up = await uploadSite(a.ctx());
    expect(up.problems).toEqual([]);
    expect(up.counts).toMatchObject({ uploaded: 1, staleTempsRemovedInBucket: 1 });
    expect(readdirSync(path.join(bucketDir, 'audio', 'show')).sort()).toEqual([live, 'ep.mp3'].sort());
  });
});

describe('a full, read-only or forbidden disk stops the site and names the path', () => {
  afterEach(() => failWrites(undefined));

  it.each([
    ['ENOSPC', /the disk is full \(ENOSPC at .*audio\/show\/ep0\.mp3\)/, /free space on the disk holding .*ep0\.mp3/],
    ['EROFS', /the file system is read-only \(EROFS at .*audio\/show\/ep0\.mp3\)/, /mount the file system holding .* read-write/],
    ['EACCES', /permission denied \(EACCES at .*audio\/show\/ep0\.mp3\)/, /write access to .*ep0\.mp3/],
  ])('pre-sync on %s: one site problem with the path and the fix, no temp files left', async (code, message, fix) => {
    const a = localSite();
    const bucketDir = localBucketDir(a.site, a.workspaceRoot, a.env);
    writeTree(bucketDir, Object.fromEntries(Array.from({ length: 3 }, (_, i) => [`audio/show/ep${i}.mp3`, `audio ${i}`])));
    failWrites(code);
    const out = await preSync({ ...a.ctx() }, { concurrency: 1 });
    expect(out.problems).toEqual([{ site: a.site.id, message: expect.stringMatching(message), fix: expect.stringMatching(fix) }]);
    failWrites(undefined);
    const leftovers = existsSync(path.join(a.paths.root, 'audio', 'show')) ? readdirSync(path.join(a.paths.root, 'audio', 'show')) : [];
    expect(leftovers).toEqual([]);
    // Space freed: the next run completes.
    const again = await preSync(a.ctx());
    expect(again.problems).toEqual([]);
    expect(again.counts).toMatchObject({ downloaded: 3 });
  });
});
