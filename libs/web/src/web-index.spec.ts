import Database from 'better-sqlite3';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildFullIndex, type EntryFile, type EpisodeToIndex } from '@podline/search-index';
import { CorruptIndexError, findMoment, highlight, matchTerms, MARK_CLOSE, MARK_OPEN, QueryError, searchWebIndex, WebIndex } from './page/search';
import { SqliteFile } from './page/sqlite-reader';
import { buildWebIndex, excerpt, fileReadAt } from './web-index';

const WORDS = ['tide', 'gull', 'rope', 'anchor', 'storm', 'boat', 'pier', 'buoy', 'mast', 'sail', 'keel', 'wave'];

describe('the web index and the page queries (the page\'s own reader, over the file)', () => {
  let dir: string;
  let fts: string;
  let web: Database.Database;
  let index: WebIndex;
  let close: () => void;
  const settings = { rankCap: 5, limit: 4 };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'podline-web-index-'));
    fts = path.join(dir, 'index.sqlite');
    const episodes: EpisodeToIndex[] = [];
    for (let n = 0; n < 8; n++) {
      const fileKey = `2024-01-0${n + 1}_ep_${n}`;
      const entries = Array.from({ length: 12 }, (_, i) => ({
        id: `${n}-${i}`,
        podcast: 'show',
        startMs: i * 10_000,
        endMs: i * 10_000 + 9_000,
        // "harbor" is everywhere (frequent), "foghorn" once per episode and twice in episode 5, "Zoë" once.
        text: [`harbor ${WORDS[(i + n) % WORDS.length]} ${WORDS[(i * n) % WORDS.length]}`, i === 3 ? 'the foghorn sounded' : '', n === 5 && i === 7 ? 'foghorn foghorn again' : '', n === 2 && i === 1 ? 'Zoë said hello' : '']
          .filter(Boolean)
          .join('. '),
      }));
      const file = { format: 1, episode: { id: `guid-${n}`, podcast: 'show', fileKey, title: `Episode ${n}`, published: `2024-01-0${n + 1}T08:00:00.000Z` }, source: { srtSha256: 'x' }, entries } as EntryFile;
      episodes.push({ key: `show/${fileKey}`, sha256: String(n), load: async () => file });
    }
    await buildFullIndex(fts, episodes);
    const info = await buildWebIndex(fts, dir, { rankCap: settings.rankCap });
    copyFileSync(path.join(dir, info.file), path.join(dir, 'ref.sqlite'));
    web = new Database(path.join(dir, 'ref.sqlite'));
    const file = fileReadAt(path.join(dir, info.file));
    close = file.close;
    index = await WebIndex.open(file.readAt, file.bytes);
    // What FTS5 says about the same rows: the reference for matches and BM25 order.
    web.exec(`CREATE VIRTUAL TABLE ref USING fts5(text, content='entries', content_rowid='rowid', tokenize='unicode61 remove_diacritics 2'); INSERT INTO ref(ref) VALUES ('rebuild');`);
  });
  afterAll(() => {
    close?.();
    web?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is the same bytes from the same index, named by its hash, in DELETE journal mode with 4 KiB pages', async () => {
    const again = mkdtempSync(path.join(os.tmpdir(), 'podline-web-index-again-'));
    try {
      const a = await buildWebIndex(fts, again, { rankCap: settings.rankCap });
      const b = readFileSync(path.join(dir, a.file));
      expect(readFileSync(path.join(again, a.file)).equals(b)).toBe(true);
      expect(a.file).toBe(`index-${a.sha256.slice(0, 16)}.sqlite`);
    } finally {
      rmSync(again, { recursive: true, force: true });
    }
    expect(web.pragma('page_size', { simple: true })).toBe(4096);
    expect(web.pragma('journal_mode', { simple: true })).toBe('delete');
  });

  it('numbers episodes newest first and keeps every entry', () => {
    expect(web.prepare('SELECT id FROM episodes ORDER BY n').pluck().all()).toEqual(['guid-7', 'guid-6', 'guid-5', 'guid-4', 'guid-3', 'guid-2', 'guid-1', 'guid-0']);
    expect(web.prepare('SELECT count(*) FROM entries').pluck().get()).toBe(96);
  });

  const bm25 = (match: string, limit: number) => web.prepare('SELECT rowid FROM ref WHERE ref MATCH ? ORDER BY rank, rowid LIMIT ?').pluck().all(match, limit);
  const rowidOf = (hit: { episode: { n: number }; startMs: number }) =>
    web.prepare('SELECT rowid FROM entries WHERE episode = ? AND start_ms = ?').pluck().get(hit.episode.n, hit.startMs);

  it('a frequent word: the best hits precomputed at build time, exactly BM25 order', async () => {
    const r = await searchWebIndex(index, 'Harbor', settings);
    expect(r.order).toBe('best');
    expect(r.matches).toBe(96);
    expect(r.hits.map(rowidOf)).toEqual(bm25('"harbor"', settings.limit));
  });

  it('a rare word: its one hit, marked', async () => {
    const r = await searchWebIndex(index, 'zoe', settings);
    expect(r.hits).toHaveLength(1);
    expect(r.hits[0].episode.id).toBe('guid-2');
    expect(r.hits[0].snippet).toBe(`harbor ${WORDS[3]} ${WORDS[2]}. ${MARK_OPEN}Zoë${MARK_CLOSE} said hello`);
  });

  it('more matches than the cap and not one word: newest first', async () => {
    const r = await searchWebIndex(index, '"the foghorn"', settings);
    expect(r.order).toBe('newest');
    expect(r.matches).toBe(8);
    expect(r.hits.map((h) => h.episode.id)).toEqual(['guid-7', 'guid-6', 'guid-5', 'guid-4']);
    expect(r.hits[0].snippet).toContain(`${MARK_OPEN}the${MARK_CLOSE} ${MARK_OPEN}foghorn${MARK_CLOSE} sounded`);
  });

  it('prefixes, no matches, and input with no words', async () => {
    const r = await searchWebIndex(index, 'fogh*', { rankCap: 100, limit: 3 });
    expect(r.order).toBe('best');
    expect(r.hits[0].episode.id).toBe('guid-5'); // "foghorn foghorn again": the best BM25
    expect(r.hits.map(rowidOf)).toEqual(bm25('"fogh"*', 3));
    expect((await searchWebIndex(index, 'zeppelin', settings)).hits).toEqual([]);
    await expect(searchWebIndex(index, '?!* ""', settings)).rejects.toThrow(QueryError);
  });

  it('opens a moment: the entry said at that second', async () => {
    const m = await findMoment(index, 'guid-3', 35);
    expect(m?.episode.title).toBe('Episode 3');
    expect(m?.text).toContain('the foghorn sounded');
    expect((await findMoment(index, 'guid-3', 0))?.text).toMatch(/^harbor /);
    expect(await findMoment(index, 'nope', 1)).toBeUndefined();
  });

  it('a best hit keeps a long text\'s part around the word, whole words, within the row size', () => {
    const long = `${'early words '.repeat(120)}and then the Foghorn sounded ${'later words '.repeat(120)}`;
    const e = excerpt(long, 'foghorn', 700);
    expect(Buffer.byteLength(e)).toBeLessThanOrEqual(700);
    expect(e).toContain('the Foghorn sounded');
    expect(e).toMatch(/^…words early|^…early words/);
    expect(e.endsWith('…')).toBe(true);
    expect(excerpt('short text', 'short', 700)).toBe('short text');
  });

  it('marks words as FTS5 matches them', () => {
    const terms = matchTerms('"light house" "keep"* "x""y"');
    expect(terms).toEqual([
      { word: 'light', prefix: false },
      { word: 'house', prefix: false },
      { word: 'keep', prefix: true },
      { word: 'x', prefix: false },
      { word: 'y', prefix: false },
    ]);
    expect(highlight('Lighthouse keepers: light, HOUSE.', terms)).toBe(`Lighthouse ${MARK_OPEN}keepers${MARK_CLOSE}: ${MARK_OPEN}light${MARK_CLOSE}, ${MARK_OPEN}HOUSE${MARK_CLOSE}.`);
  });
});
