import type { EpisodeManifest, EpisodeRecord } from '@podline/config';
import { mergeManifests } from './manifest-merge';

const rec = (n: number, extra: Partial<EpisodeRecord> = {}): EpisodeRecord => ({
  id: `guid-${n}`,
  idSource: 'guid',
  podcast: 'show',
  fileKey: `2026-11-0${n}_episode-${n}_abc${n}`,
  title: `Episode ${n}`,
  status: 'new',
  ...extra,
});
const manifest = (...episodes: EpisodeRecord[]): EpisodeManifest => ({ version: 1, site: 'demo', episodes });
const ids = (m: EpisodeManifest) => m.episodes.map((e) => e.id);

describe('mergeManifests', () => {
  it('keeps every episode of both sides, sorted as rss writes them', () => {
    const { manifest: m, added } = mergeManifests(manifest(rec(1), rec(3)), manifest(rec(2), rec(1)));
    expect(ids(m)).toEqual(['guid-1', 'guid-2', 'guid-3']);
    expect(added).toBe(1);
  });

  it("takes the other side's record only when it got further (its audio is downloaded)", () => {
    const audio = { key: 'audio/show/x.mp3', size: 10, sha256: 'aa' };
    const local = manifest(rec(1, { status: 'failed', error: 'timeout', failedRuns: 2 }), rec(2, { status: 'downloaded', audio, title: 'Mine' }));
    const other = manifest(rec(1, { status: 'downloaded', audio }), rec(2, { status: 'new', title: 'Theirs' }));
    const { manifest: m, advanced } = mergeManifests(local, other);
    expect(advanced).toBe(1);
    expect(m.episodes[0]).toMatchObject({ status: 'downloaded', audio });
    expect(m.episodes[0].failedRuns).toBeUndefined();
    expect(m.episodes[1].title).toBe('Mine');
  });

  it('never lets two episodes share a file key: the other side\'s is left out and named', () => {
    const { manifest: m, clashes } = mergeManifests(manifest(rec(1)), manifest(rec(9, { fileKey: rec(1).fileKey })));
    expect(ids(m)).toEqual(['guid-1']);
    expect(clashes).toEqual([`show/${rec(1).fileKey} (guid-9)`]);
  });

  it('is idempotent and never smaller than either side', () => {
    const a = manifest(rec(1), rec(2));
    const b = manifest(rec(3));
    const once = mergeManifests(a, b).manifest;
    expect(mergeManifests(once, b).manifest).toEqual(once);
    expect(mergeManifests(b, once).manifest.episodes).toHaveLength(3);
  });
});
