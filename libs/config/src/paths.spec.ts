import * as path from 'node:path';
import { SitePaths, dataRoot, keys, localBucketDir, stateFileRel } from './index';
import { isTempOrJunk, stableStringify, tempFileOwner, tempPathFor, writeJsonAtomic } from './atomic';
import { isStaleTemp } from './lock';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';

describe('paths', () => {
  it('puts site data under data/<id> by default and honours PODLINE_DATA_DIR', () => {
    expect(dataRoot('/ws', {})).toBe(path.join('/ws', 'data'));
    expect(dataRoot('/ws', { PODLINE_DATA_DIR: 'elsewhere' })).toBe(path.join('/ws', 'elsewhere'));
    expect(dataRoot('/ws', { PODLINE_DATA_DIR: '/abs' })).toBe('/abs');
    const p = new SitePaths('demo', '/ws', {});
    expect(p.audioFile('show', '2026-01-01_a_1234abcd')).toBe(path.join('/ws/data/demo/audio/show/2026-01-01_a_1234abcd.mp3'));
    expect(p.manifestFile).toBe(path.join('/ws/data/demo/episode-manifest/full-episode-manifest.json'));
  });

  it('uses the same keys locally and in the bucket', () => {
    expect(keys.transcript('show', 'k')).toBe('transcripts/show/k.srt');
    expect(keys.searchEntries('show', 'k')).toBe('search-entries/show/k.json');
    expect(new SitePaths('demo', '/ws', {}).file(keys.transcript('show', 'k'))).toBe(path.join('/ws/data/demo/transcripts/show/k.srt'));
  });

  it('refuses keys that escape the site folder', () => {
    expect(() => new SitePaths('demo', '/ws', {}).file('../other/x')).toThrow(/unsafe key/);
  });

  it('defaults the local bucket to data/.bucket/<id>', () => {
    expect(localBucketDir({ id: 'demo', storage: { kind: 'local' } }, '/ws', {})).toBe(path.join('/ws/data/.bucket/demo'));
    expect(localBucketDir({ id: 'demo', storage: { kind: 'local', path: 'b' } }, '/ws', {})).toBe(path.join('/ws/b'));
    expect(stateFileRel('demo', 'rss')).toBe('.podline/state/demo/rss.json');
  });
});

describe('atomic writes', () => {
  it('writes sorted, byte-stable JSON and skips identical rewrites', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'podline-atomic-'));
    try {
      const file = path.join(dir, 'sub', 'state.json');
      expect(await writeJsonAtomic(file, { b: 1, a: { d: [2, 1], c: undefined } })).toBe(true);
      expect(readFileSync(file, 'utf8')).toBe('{\n  "a": {\n    "d": [\n      2,\n      1\n    ]\n  },\n  "b": 1\n}\n');
      const before = statSync(file).mtimeMs;
      expect(await writeJsonAtomic(file, { a: { d: [2, 1] }, b: 1 })).toBe(false);
      expect(statSync(file).mtimeMs).toBe(before);
      expect(readdirSync(path.dirname(file))).toEqual(['state.json']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('recognises its own temp files and OS droppings', () => {
    expect(isTempOrJunk(tempPathFor('/a/b.mp3'))).toBe(true);
    expect(isTempOrJunk('/a/.DS_Store')).toBe(true);
    expect(isTempOrJunk('/a/b.mp3')).toBe(false);
    expect(stableStringify({ z: 1, a: 2 })).toBe('{\n  "a": 2,\n  "z": 1\n}\n');
  });

  it('knows who writes a temp file, and when its writer is gone', () => {
    const mine = tempPathFor('/a/episode.mp3');
    expect(tempFileOwner(mine)).toBe(process.pid);
    expect(isStaleTemp(mine)).toBe(false);
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    expect(isStaleTemp(`/a/.episode.mp3.${dead}.0badc0de.podline-tmp`)).toBe(true);
    expect(tempFileOwner('/a/episode.mp3')).toBeUndefined();
    expect(isStaleTemp('/a/.episode.mp3.x.podline-tmp')).toBe(false);
  });
});
