import { existsSync, mkdtempSync, promises as fsp, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { keys, SitePaths, stableStringify, type EpisodeManifest, type EpisodeRecord } from '@podline/config';
import { buildSiteIndex } from './build';
import { IndexMissingError, searchSite } from './search';

function srt(lines: Array<[number, number, string]>): string {
  const ts = (ms: number) => {
    const d = new Date(ms);
    return `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}:${String(d.getUTCSeconds()).padStart(2, '0')},${String(d.getUTCMilliseconds()).padStart(3, '0')}`;
  };
  return lines.map(([a, b, t], i) => `${i + 1}\n${ts(a)} --> ${ts(b)}\n${t}\n`).join('\n');
}

function episode(podcast: string, fileKey: string, title: string): EpisodeRecord {
  return { id: `guid-${fileKey}`, idSource: 'guid', podcast, fileKey, title, published: '2024-02-01T10:00:00.000Z', status: 'downloaded' };
}

describe('buildSiteIndex + searchSite (local files, real SQLite FTS5)', () => {
  let root: string;
  let paths: SitePaths;
  const siteId = 'testsite';
  const episodes = [
    episode('alpha', '2024-01-01_cats_aaa', 'All about cats'),
    episode('alpha', '2024-01-02_dogs_bbb', 'Dogs and more'),
    episode('beta', '2024-01-03_none_ccc', 'No transcript yet'),
  ];
  const writeManifest = (eps: EpisodeRecord[]) =>
    writeFileSync(paths.manifestFile, stableStringify({ version: 1, site: siteId, episodes: eps } satisfies EpisodeManifest));
  const writeSrt = (ep: EpisodeRecord, text: string) => {
    mkdirSync(path.dirname(paths.transcriptFile(ep.podcast, ep.fileKey)), { recursive: true });
    writeFileSync(paths.transcriptFile(ep.podcast, ep.fileKey), text);
  };
  const build = (extra: Partial<Parameters<typeof buildSiteIndex>[0]> = {}) => buildSiteIndex({ siteId, paths, ...extra });
  const indexFile = () => paths.file(keys.searchIndex());

  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'podline-index-'));
    paths = new SitePaths(siteId, root, {});
    mkdirSync(path.dirname(paths.manifestFile), { recursive: true });
    writeManifest(episodes);
    writeSrt(
      episodes[0],
      srt([
        [0, 4000, 'Cats sleep a lot.'],
        [4000, 9000, 'A cat can sleep sixteen hours a day.'],
        [10000, 14000, 'The quick brown fox jumps'],
        [14000, 18000, 'over the lazy dog.'],
        [20000, 28000, 'Cats cats cats, everywhere cats.'],
      ]),
    );
    writeSrt(
      episodes[1],
      srt([
        [0, 5000, 'Dogs love to run in the park.'],
        [5000, 9000, 'A lazy dog sleeps under the quick sun.'],
        [3_600_000 + 61_000, 3_600_000 + 69_000, 'Searching made simple at the end.'],
      ]),
    );
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('builds entry files and an index; a second run changes nothing', async () => {
    const first = await build();
    expect(first.problems).toEqual([]);
    expect(first.counts).toMatchObject({ entriesBuilt: 2, noTranscript: 1, reindexed: 2 });
    expect(first.writtenKeys.sort()).toEqual([keys.searchEntries('alpha', '2024-01-01_cats_aaa'), keys.searchEntries('alpha', '2024-01-02_dogs_bbb')]);
    const entryFile = JSON.parse(readFileSync(paths.searchEntriesFile('alpha', '2024-01-01_cats_aaa'), 'utf8'));
    expect(entryFile.episode.title).toBe('All about cats');
    expect(entryFile.entries.length).toBeGreaterThan(1);
    expect(first.state!.entries.map((e) => e.key)).toEqual(first.writtenKeys.sort());
    expect(first.state!.index.episodes).toBe(2);

    const indexMtime = statSync(indexFile()).mtimeMs;
    const entryMtime = statSync(paths.searchEntriesFile('alpha', '2024-01-01_cats_aaa')).mtimeMs;
    const second = await build();
    expect(second.counts).toEqual({ entriesUnchanged: 2, noTranscript: 1 });
    expect(second.writtenKeys).toEqual([]);
    expect(second.indexChanged).toBe(false);
    expect(stableStringify(second.state)).toBe(stableStringify(first.state));
    expect(statSync(indexFile()).mtimeMs).toBe(indexMtime);
    expect(statSync(paths.searchEntriesFile('alpha', '2024-01-01_cats_aaa')).mtimeMs).toBe(entryMtime);
  });

  it('touching one episode rebuilds and re-indexes only it', async () => {
    const first = await build();
    writeSrt(episodes[1], srt([[0, 5000, 'Completely new words: zebra crossing.']]));
    const second = await build();
    expect(second.counts).toMatchObject({ entriesBuilt: 1, entriesUnchanged: 1, reindexed: 1 });
    expect(second.writtenKeys).toEqual([keys.searchEntries('alpha', '2024-01-02_dogs_bbb')]);
    expect(second.state!.index.digest).not.toBe(first.state!.index.digest);
    expect(searchSite(paths, siteId, 'zebra').map((h) => h.episodeTitle)).toEqual(['Dogs and more']);
    expect(searchSite(paths, siteId, 'park')).toEqual([]); // the old text is gone, never reused stale
    expect(searchSite(paths, siteId, 'cats').length).toBeGreaterThan(0); // the untouched episode is still there

    // An incremental index holds exactly what a from-scratch build holds.
    const scratch = await build({ force: true });
    expect(scratch.state).toEqual(second.state);
  });

  it('an SRT rewritten with the same size is still noticed; a lost stamp memo only costs a re-read', async () => {
    await build();
    const file = paths.transcriptFile('alpha', '2024-01-02_dogs_bbb');
    const before = readFileSync(file, 'utf8');
    const after = before.replace('park', 'pond');
    expect(after.length).toBe(before.length);
    writeFileSync(file, after);
    const second = await build();
    expect(second.counts).toMatchObject({ entriesBuilt: 1, entriesUnchanged: 1, reindexed: 1 });
    expect(searchSite(paths, siteId, 'pond')).toHaveLength(1);

    writeFileSync(path.join(paths.cacheDir(), 'search-index-stamps.json'), '{ broken');
    const third = await build();
    expect(third.counts).toEqual({ entriesUnchanged: 2, noTranscript: 1 });
    expect(third.state).toEqual(second.state);
  });

  it('metadata change alone rebuilds the entry file; a removed episode leaves the index', async () => {
    await build();
    writeManifest([{ ...episodes[0], title: 'Cats, renamed' }, episodes[2]]);
    const second = await build();
    expect(second.counts).toMatchObject({ entriesBuilt: 1, reindexed: 1, dropped: 1 });
    expect(searchSite(paths, siteId, 'cats')[0].episodeTitle).toBe('Cats, renamed');
    expect(searchSite(paths, siteId, 'dogs')).toEqual([]);
    expect(second.state!.index.episodes).toBe(1);
    // the dropped episode's entry file is data: left where it is
    expect(existsSync(paths.searchEntriesFile('alpha', '2024-01-02_dogs_bbb'))).toBe(true);
  });

  it('search: BM25 ranking, phrase, prefix, OR, hh:mm:ss timestamps, snippets', async () => {
    await build();
    const cats = searchSite(paths, siteId, 'cats');
    expect(cats[0].snippet).toContain('[Cats] [cats] [cats]'); // the passage saying it most ranks first
    expect(cats[0].score).toBeLessThanOrEqual(cats[cats.length - 1].score);

    // phrase: only where the words are adjacent and in order
    const phrase = searchSite(paths, siteId, '"lazy dog"');
    expect(phrase.map((h) => h.episodeTitle)).toEqual(['All about cats', 'Dogs and more']);
    expect(searchSite(paths, siteId, '"quick brown fox"').map((h) => h.episodeTitle)).toEqual(['All about cats']);
    expect(searchSite(paths, siteId, '"dog lazy"')).toEqual([]);
    // words anywhere in the entry (AND), unlike the phrase
    expect(searchSite(paths, siteId, 'quick sun').map((h) => h.episodeTitle)).toEqual(['Dogs and more']);

    expect(searchSite(paths, siteId, 'search*').map((h) => [h.podcast, h.timestamp])).toEqual([['alpha', '01:01:01']]);
    expect(searchSite(paths, siteId, 'search')).toEqual([]); // no stemming: the prefix is what finds it
    expect(searchSite(paths, siteId, 'zebra OR park').map((h) => h.episodeTitle)).toEqual(['Dogs and more']);
    expect(searchSite(paths, siteId, 'cats', 1)).toHaveLength(1);
    // FTS5 syntax typed by accident is searched as text, never an error or an injected expression
    expect(searchSite(paths, siteId, 'text: NEAR( cats AND')).toEqual([]);
    expect(() => searchSite(paths, siteId, '  * ')).toThrow(/no words to search for/);
  });

  it('a missing index gives a clear message naming the command to run', () => {
    expect(() => searchSite(paths, siteId, 'cats')).toThrow(IndexMissingError);
    expect(() => searchSite(paths, siteId, 'cats')).toThrow(/nx run testsite:index/);
  });

  it('dry-run says what it would do and writes nothing', async () => {
    const dry = await build({ dryRun: true });
    expect(dry.state).toBeUndefined();
    expect(dry.counts).toMatchObject({ entriesBuilt: 2, wouldReindex: 2 });
    expect(existsSync(paths.folder('search-entries'))).toBe(false);
    expect(existsSync(paths.searchIndexDir())).toBe(false);
  });

  it('a bad transcript is a per-episode problem; the other episodes are indexed', async () => {
    writeSrt(episodes[0], 'this is not\nan srt file\n');
    const result = await build();
    expect(result.problems).toEqual([
      expect.objectContaining({ site: siteId, podcast: 'alpha', episode: 'All about cats', file: keys.transcript('alpha', '2024-01-01_cats_aaa') }),
    ]);
    expect(result.problems[0].fix).toMatch(/00:00:01,000/);
    expect(searchSite(paths, siteId, 'park')).toHaveLength(1);
  });

  it('a damaged index or a killed build\'s temp file is never taken for a complete index', async () => {
    await build();
    // a temp file a killed build left behind, and then a damaged index
    const stray = path.join(paths.searchIndexDir(), '.index.sqlite.1234.deadbeef.podline-tmp');
    writeFileSync(stray, 'half');
    writeFileSync(indexFile(), 'garbage');
    expect(() => searchSite(paths, siteId, 'cats')).toThrow(IndexMissingError);
    const again = await build();
    expect(again.counts.reindexed).toBe(2);
    expect(existsSync(stray)).toBe(false);
    expect(searchSite(paths, siteId, 'park')).toHaveLength(1);
    expect((await fsp.readdir(paths.searchIndexDir())).sort()).toEqual(['index.sqlite']);
  });

  it('a missing manifest is a clear error naming the fix', async () => {
    rmSync(paths.manifestFile);
    await expect(build()).rejects.toThrow(/no episode manifest/);
  });
});
