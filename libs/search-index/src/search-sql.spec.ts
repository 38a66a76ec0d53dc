import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { EntryFile } from './entries';
import { toFtsQuery } from './query';
import { buildFullIndex, searchIndex, type EpisodeToIndex } from './sqlite-index';

/** The search SQL before it ranked inside FTS5: every match joined and snippeted, then sorted and cut. */
const JOIN_EVERYTHING_SQL = `
SELECT e.id AS entryId, ep.podcast, ep.id AS episodeId, ep.title AS episodeTitle, ep.file_key AS fileKey,
       ep.published, e.start_ms AS startMs, e.end_ms AS endMs,
       snippet(entries_fts, 0, '[', ']', '…', 16) AS snippet, bm25(entries_fts) AS score
  FROM entries_fts
  JOIN entries e ON e.rowid = entries_fts.rowid
  JOIN episodes ep ON ep.key = e.episode_key
 WHERE entries_fts MATCH ?
 ORDER BY rank, e.episode_key, e.start_ms
 LIMIT ?`;

describe('searchIndex ranks inside FTS5 first', () => {
  let dir: string;
  let db: Database.Database;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'podline-search-sql-'));
    const words = ['pier', 'buoy', 'lighthouse', 'keeper', 'tide', 'gull', 'rope', 'anchor', 'storm', 'boat'];
    const episodes: EpisodeToIndex[] = [];
    // Inserted in an order unlike their keys, with many identical texts, so BM25 ties cross every cut.
    for (const n of [7, 3, 11, 0, 5, 9, 1, 10, 2, 8, 4, 6]) {
      const podcast = n % 2 ? 'odd' : 'even';
      const fileKey = `2024-01-${String(n + 1).padStart(2, '0')}_ep_${n}`;
      const entries = Array.from({ length: 40 }, (_, i) => {
        const text = i % 4 === 0 ? 'The foghorn sounded at the harbor.' : Array.from({ length: 6 + ((i * n) % 7) }, (_, k) => words[(i * 3 + k * n) % words.length]).join(' ');
        return { id: `${n}-${i * 10_000}`, podcast, startMs: i * 10_000, endMs: i * 10_000 + 9_000, text };
      });
      const file: EntryFile = { format: 1, episode: { id: `guid-${n}`, podcast, fileKey, title: `Episode ${n}` }, source: { srtSha256: 'x' }, entries } as EntryFile;
      episodes.push({ key: `${podcast}/${fileKey}`, sha256: String(n), load: async () => file });
    }
    await buildFullIndex(path.join(dir, 'index.sqlite'), episodes);
    db = new Database(path.join(dir, 'index.sqlite'), { readonly: true });
  });
  afterAll(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ['foghorn', 1],
    ['foghorn', 5],
    ['foghorn', 13],
    ['harbor', 10],
    ['"the foghorn"', 7],
    ['anch*', 10],
    ['storm OR gull', 10],
    ['keeper tide', 3],
    ['nothing-here', 10],
  ])('%s (limit %d) gives exactly what joining every match gave', (query, limit) => {
    const before = db.prepare(JOIN_EVERYTHING_SQL).all(toFtsQuery(query), limit) as Array<{ entryId: string }>;
    const after = searchIndex(db, query, limit);
    expect(after.map((h) => h.entryId)).toEqual(before.map((h) => h.entryId));
    expect(after.map((h) => h.snippet)).toEqual(before.map((h) => (h as unknown as { snippet: string }).snippet));
    if (query !== 'nothing-here') expect(after.length).toBe(limit > before.length ? before.length : limit);
  });

  it('finds ties: a common word has more equal scores than the limit', () => {
    const scores = searchIndex(db, 'foghorn', 20).map((h) => h.score);
    expect(new Set(scores.slice(0, 13)).size).toBe(1);
  });
});
