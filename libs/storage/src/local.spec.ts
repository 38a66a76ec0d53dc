import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MANIFEST_KEY, localBucketDir } from '@podline/config';
import { StorageError } from './errors';
import { HashCache } from './hash-cache';
import { LocalFolderBackend } from './local-backend';
import { makeSite, md5, readTree, writeTree, type TestSite } from './spec-fixtures';
import { checkSite, preSync, uploadSite } from './sync';

const sites: TestSite[] = [];
afterAll(() => sites.forEach((s) => s.cleanup()));
const site = (storage: TestSite['site']['storage'] = { kind: 'local' }, runId?: string) => {
  const s = makeSite(storage, { env: runId ? { PODLINE_RUN_ID: runId } : {} });
  sites.push(s);
  return s;
};

const files = {
  'rss/show.xml': '<rss/>',
  'audio/show/a.mp3': 'A'.repeat(5000),
  'transcripts/show/a.srt': 'sub',
  [MANIFEST_KEY]: '{"version":1}',
};

describe('local-folder backend (the embedded default)', () => {
  it('uploads the backlog into data/.bucket/<site>, junk and dot-folders excluded, and pulls it on a clean machine', async () => {
    const a = site();
    writeTree(a.paths.root, { ...files, 'audio/show/a.mp3.part': 'x', '.cache/feeds/show.json': '{}' });
    const up = await uploadSite(a.ctx());
    expect(up.problems).toEqual([]);
    expect(up.counts).toMatchObject({ uploaded: 4 });
    const bucketDir = localBucketDir(a.site, a.workspaceRoot, a.env);
    expect(bucketDir).toBe(path.join(a.workspaceRoot, 'data', '.bucket', a.site.id));
    expect(readTree(bucketDir, true)).toEqual(Object.fromEntries(Object.entries(files).map(([k, v]) => [k, md5(v)])));
    // The copy keeps the source's mtime: both sides agree on times.
    const mtime = (file: string) => Math.round(statSync(file).mtimeMs);
    expect(mtime(path.join(bucketDir, 'audio', 'show', 'a.mp3'))).toBe(mtime(a.paths.file('audio/show/a.mp3')));

    // Same bucket folder, another data folder: the clean-slate case.
    const b = makeSite({ kind: 'local', path: bucketDir });
    sites.push(b);
    const down = await preSync(b.ctx());
    expect(down.counts).toMatchObject({ downloaded: 4 });
    expect(readTree(b.paths.root)).toEqual(readTree(bucketDir));
    expect((await checkSite(b.ctx())).counts).toMatchObject({ inSync: 4, onlyLocal: 0, onlyBucket: 0, differing: 0 });
  });

  it('is idempotent: second runs transfer nothing and write byte-identical states', async () => {
    const s = site(undefined, 'run-a');
    writeTree(s.paths.root, files);
    const cycle = async () => {
      const out = [await preSync(s.ctx()), await checkSite(s.ctx()), await uploadSite(s.ctx())];
      return { states: out.map((o) => o.state), transferred: (out[0].counts.downloaded ?? 0) + (out[2].counts.uploaded ?? 0) };
    };
    const first = await cycle();
    expect(first.transferred).toBe(4);
    s.env.PODLINE_RUN_ID = 'run-b';
    const second = await cycle();
    s.env.PODLINE_RUN_ID = 'run-c';
    const third = await cycle();
    expect(second.transferred).toBe(0);
    expect(third).toEqual(second);
    // upload's state describes the bucket after the upload: the same whether this run or the last one uploaded.
    expect(second.states[2]).toEqual(first.states[2]);
    expect(JSON.stringify(second)).not.toMatch(/"(mtime|time|date|seconds)/i);
  });

  it('check reports a same-size edit by content hash, and conflict modes hold for the local folder too', async () => {
    const s = site({ kind: 'local', path: 'custom-bucket' });
    writeTree(s.paths.root, { 'transcripts/show/x.srt': 'aaaa' }, new Date('2020-01-01T00:00:00Z'));
    await uploadSite(s.ctx());
    expect(readFileSync(path.join(s.workspaceRoot, 'custom-bucket', 'transcripts', 'show', 'x.srt'), 'utf8')).toBe('aaaa');
    writeTree(s.paths.root, { 'transcripts/show/x.srt': 'bbbb' }, new Date('2021-01-01T00:00:00Z'));
    const check = await checkSite(s.ctx());
    expect(check.state).toMatchObject({ folders: { transcripts: { differing: [{ key: 'transcripts/show/x.srt', reason: 'md5' }] } } });
    expect((await uploadSite(s.ctx())).counts).toMatchObject({ uploaded: 0, skippedExisting: 1 });
    expect((await uploadSite(s.ctx(), { conflict: 'overwrite-if-newer' })).counts).toMatchObject({ uploaded: 1 });
    expect(readFileSync(path.join(s.workspaceRoot, 'custom-bucket', 'transcripts', 'show', 'x.srt'), 'utf8')).toBe('bbbb');
    expect((await checkSite(s.ctx())).counts).toMatchObject({ differing: 0, inSync: 1 });
  });

  it('rejects an unknown folder or conflict mode with a clear problem', async () => {
    const s = site();
    const bad = await uploadSite(s.ctx(), { folders: ['audio', 'videos'] });
    expect(bad.problems[0]).toMatchObject({ site: s.site.id, message: `site ${s.site.id}: unknown folder(s) "videos"` });
    expect(bad.problems[0].fix).toContain('rss, audio, transcripts');
    const mode = await preSync(s.ctx(), { conflict: 'newest' as never });
    expect(mode.problems[0].message).toContain('unknown conflict mode "newest"');
  });

  it('folders limits the sync to a subset', async () => {
    const s = site();
    writeTree(s.paths.root, files);
    const out = await uploadSite(s.ctx(), { folders: ['transcripts'] });
    expect(out.counts.uploaded).toBe(1);
    expect(Object.keys(readTree(localBucketDir(s.site, s.workspaceRoot, s.env)))).toEqual(['transcripts/show/a.srt']);
  });
});

describe("Podline's own temp objects in a local-folder bucket (queue results)", () => {
  it('lists, reads (bounded) and removes only keys under queue-results/, leaving no empty folders', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'podline-temps-'));
    try {
      const backend = new LocalFolderBackend(root, await HashCache.open(path.join(root, '.hashes.json')));
      writeTree(root, { 'queue-results/show/ep1/a.json': '{"a":1}', 'queue-results/show/ep2/b.json': 'x'.repeat(100), 'audio/show/ep1.mp3': 'A' });
      expect((await backend.listTemps()).map((e) => [e.key, e.size]).sort()).toEqual([
        ['queue-results/show/ep1/a.json', 7],
        ['queue-results/show/ep2/b.json', 100],
      ]);
      // The synced folders' listing never shows them.
      expect([...(await backend.list({ etags: false })).keys()]).toEqual(['audio/show/ep1.mp3']);
      expect((await backend.readTemp('queue-results/show/ep1/a.json', 1000)).toString()).toBe('{"a":1}');
      // Refusals are storage errors naming the key and where, with what to do.
      const where = `local folder ${root}`;
      await expect(backend.readTemp('queue-results/show/ep2/b.json', 50)).rejects.toMatchObject({
        message: `queue-results/show/ep2/b.json in ${where} is 100 bytes, more than the 50 a temp object may hold`,
        fix: expect.stringContaining('check that object, delete it if it is not a queue result, then run again'),
      });
      await expect(backend.readTemp('audio/show/ep1.mp3', 50)).rejects.toMatchObject({
        message: `refusing to read "audio/show/ep1.mp3" in ${where}: only Podline's own temp objects (queue-results/…) are read this way`,
        fix: expect.stringContaining('nothing was read'),
      });
      await expect(backend.removeTemp('audio/show/ep1.mp3')).rejects.toMatchObject({
        message: `refusing to delete "audio/show/ep1.mp3" in ${where}: only Podline's own temp objects (queue-results/…) are ever deleted this way`,
        fix: 'nothing was deleted: remove that object yourself if it should go',
      });
      await expect(backend.removeTemp('queue-results/../audio/show/ep1.mp3')).rejects.toThrow(StorageError);
      await expect(backend.removeTemp('queue-results/../audio/show/ep1.mp3')).rejects.toThrow(/refusing to delete/);
      await backend.removeTemp('queue-results/show/ep1/a.json');
      await backend.removeTemp('queue-results/show/ep1/a.json'); // twice: nothing more to do
      expect(existsSync(path.join(root, 'queue-results', 'show', 'ep1'))).toBe(false);
      expect(existsSync(path.join(root, 'queue-results', 'show', 'ep2', 'b.json'))).toBe(true);
      expect(readFileSync(path.join(root, 'audio', 'show', 'ep1.mp3'), 'utf8')).toBe('A');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
