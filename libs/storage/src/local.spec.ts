import { readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { MANIFEST_KEY, localBucketDir } from '@podline/config';
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
