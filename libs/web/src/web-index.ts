import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { tempPathFor } from '@podline/config';

/**
 * The web copy of a site's index: built deterministically from the FTS index the CLI and the Lambda use,
 * laid out for a browser that reads it page by page over HTTP range requests.
 *
 * What a cold query costs is the pages it touches, so the layout keeps those few:
 * - 4 KiB pages (a range request per page read; smaller pages waste less of each read).
 * - rowids in recency order (newest episode first, then by time), so "the newest matches" is the start of
 *   every doclist and can be read without touching the rest.
 * - a compact `entries` table (episode number instead of key strings, no entry id): fewer pages per hit.
 * - BM25 needs every match's document size (`entries_fts_docsize`), which for a common word means most of
 *   that table. So for every term matching more than `rankCap` entries the build stores its best hits
 *   (`top_hits`, BM25 order, computed here with the same SQLite); the page reads those instead. Queries
 *   whose matches exceed `rankCap` and that are not one such term are shown newest first.
 * - `optimize` merges FTS5 segments into one b-tree per term range, `VACUUM` packs the file.
 */
export const WEB_INDEX_FORMAT = 1;
/** Page size of the web index (the page's range reads use it as chunk size). */
export const WEB_PAGE_SIZE = 4096;
/** Queries with more matches than this are not ranked by BM25 in the browser. */
export const DEFAULT_RANK_CAP = 40;
/** How many hits the page shows (and top_hits keeps per frequent term). */
export const WEB_RESULT_LIMIT = 20;

const WEB_SCHEMA_SQL = `
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE episodes(
  n INTEGER PRIMARY KEY,         -- 1 = newest
  id TEXT NOT NULL,
  podcast TEXT NOT NULL,
  file_key TEXT NOT NULL,
  title TEXT NOT NULL,
  published TEXT
);
CREATE INDEX episodes_by_id ON episodes(id);
CREATE TABLE entries(
  rowid INTEGER PRIMARY KEY,     -- newest episode first, then by start
  episode INTEGER NOT NULL,
  start_ms INTEGER NOT NULL,
  end_ms INTEGER NOT NULL,
  text TEXT NOT NULL
);
CREATE INDEX entries_by_episode ON entries(episode, start_ms);
CREATE VIRTUAL TABLE entries_fts USING fts5(text, content='entries', content_rowid='rowid', tokenize='unicode61 remove_diacritics 2');
CREATE TABLE top_hits(term TEXT NOT NULL, pos INTEGER NOT NULL, entry INTEGER NOT NULL, PRIMARY KEY(term, pos)) WITHOUT ROWID;
`;

export interface WebIndexOptions {
  rankCap?: number;
}

export interface WebIndexInfo {
  episodes: number;
  entries: number;
  /** Terms with precomputed best hits. */
  frequentTerms: number;
  bytes: number;
  sha256: string;
  /** `index-<first 16 hex of sha256>.sqlite`, in the target folder. */
  file: string;
  rankCap: number;
}

/**
 * Build the web index from the site's FTS index (`source`) into folder `dir`, as `index-<hash>.sqlite`
 * (built in a temp file, renamed into place when complete). The same source gives the same bytes.
 */
export async function buildWebIndex(source: string, dir: string, options: WebIndexOptions = {}): Promise<WebIndexInfo> {
  const rankCap = options.rankCap ?? DEFAULT_RANK_CAP;
  await fsp.mkdir(dir, { recursive: true });
  const tmp = tempPathFor(path.join(dir, 'index.sqlite'));
  let counts: Omit<WebIndexInfo, 'bytes' | 'sha256' | 'file' | 'rankCap'>;
  try {
    const db = new Database(tmp);
    try {
      db.pragma('journal_mode = OFF');
      db.pragma('synchronous = OFF');
      db.pragma(`page_size = ${WEB_PAGE_SIZE}`);
      db.exec(WEB_SCHEMA_SQL);
      db.prepare('ATTACH DATABASE ? AS src').run(source);
      db.exec(`
        INSERT INTO episodes(n, id, podcast, file_key, title, published)
          SELECT row_number() OVER (ORDER BY published IS NULL, published DESC, key), id, podcast, file_key, title, published
            FROM src.episodes;
        INSERT INTO entries(episode, start_ms, end_ms, text)
          SELECT ep.n, e.start_ms, e.end_ms, e.text
            FROM src.entries e JOIN src.episodes s ON s.key = e.episode_key JOIN episodes ep ON ep.podcast = s.podcast AND ep.file_key = s.file_key
           ORDER BY ep.n, e.start_ms, e.rowid;
        INSERT INTO entries_fts(entries_fts) VALUES ('rebuild');
        INSERT INTO entries_fts(entries_fts) VALUES ('optimize');
      `);
      db.exec('DETACH DATABASE src');
      db.exec(`CREATE VIRTUAL TABLE temp.vocab USING fts5vocab(main, entries_fts, 'row')`);
      const frequent = db.prepare('SELECT term FROM temp.vocab WHERE doc > ? ORDER BY term').pluck().all(rankCap) as string[];
      const best = db.prepare(`SELECT rowid FROM entries_fts WHERE entries_fts MATCH ? ORDER BY rank, rowid LIMIT ${WEB_RESULT_LIMIT}`).pluck();
      const insert = db.prepare('INSERT INTO top_hits(term, pos, entry) VALUES (?, ?, ?)');
      db.transaction(() => {
        for (const term of frequent) (best.all(`"${term.replace(/"/g, '""')}"`) as number[]).forEach((rowid, i) => insert.run(term, i, rowid));
      })();
      db.exec('DROP TABLE temp.vocab');
      const meta = db.prepare('INSERT INTO meta(key, value) VALUES (?, ?)');
      meta.run('format', String(WEB_INDEX_FORMAT));
      meta.run('rank_cap', String(rankCap));
      meta.run('limit', String(WEB_RESULT_LIMIT));
      counts = {
        episodes: (db.prepare('SELECT count(*) FROM episodes').pluck().get() as number) ?? 0,
        entries: (db.prepare('SELECT count(*) FROM entries').pluck().get() as number) ?? 0,
        frequentTerms: frequent.length,
      };
      db.exec('VACUUM');
      // Readers over HTTP cannot use a WAL; DELETE is the plain single-file layout.
      db.pragma('journal_mode = DELETE');
    } finally {
      db.close();
    }
    const bytes = await fsp.readFile(tmp);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const file = `index-${sha256.slice(0, 16)}.sqlite`;
    await fsp.rename(tmp, path.join(dir, file));
    return { ...counts, bytes: bytes.length, sha256, file, rankCap };
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  }
}
