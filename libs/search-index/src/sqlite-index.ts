import Database from 'better-sqlite3';
import { existsSync, promises as fsp, readdirSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { byKey, sha256, TEMP_SUFFIX, tempPathFor } from '@podline/config';
import type { EntryFile } from './entries';
import { toFtsQuery } from './query';

/**
 * The search index: one SQLite file with an FTS5 table over the entries (BM25 ranking, phrase and prefix
 * queries, snippets). Queries read pages from disk, so the index never has to fit in memory.
 *
 * Crash safety: a first or full build goes to a temp file renamed into place when complete; incremental
 * updates are one SQLite transaction (rolled back by SQLite after a kill). Either way a reader sees the old
 * index or the new one, never a half.
 */
export const INDEX_SCHEMA = 1;

const SCHEMA_SQL = `
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE episodes(
  key TEXT PRIMARY KEY,           -- <podcast>/<fileKey>
  id TEXT NOT NULL,               -- the episode's stable id
  podcast TEXT NOT NULL,
  file_key TEXT NOT NULL,
  title TEXT NOT NULL,
  published TEXT,
  entries_sha256 TEXT NOT NULL,   -- sha256 of the entry file indexed
  entry_count INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE entries(
  rowid INTEGER PRIMARY KEY,
  id TEXT NOT NULL,
  episode_key TEXT NOT NULL,
  start_ms INTEGER NOT NULL,
  end_ms INTEGER NOT NULL,
  text TEXT NOT NULL
);
CREATE INDEX entries_by_episode ON entries(episode_key);
CREATE VIRTUAL TABLE entries_fts USING fts5(text, content='entries', content_rowid='rowid', tokenize='unicode61 remove_diacritics 2');
`;

/** What an index holds for one episode. */
export interface IndexedEpisode {
  key: string;
  sha256: string;
}

/** An episode to (re)index: its key, the hash of its entry file, and a way to read the file. */
export interface EpisodeToIndex {
  key: string;
  sha256: string;
  load(): Promise<EntryFile>;
}

export interface SearchHit {
  entryId: string;
  podcast: string;
  episodeId: string;
  episodeTitle: string;
  fileKey: string;
  published?: string;
  startMs: number;
  endMs: number;
  /** hh:mm:ss of startMs. */
  timestamp: string;
  /** Matching text with hits in [brackets]. */
  snippet: string;
  /** BM25 score (lower is better, as FTS5 gives it). */
  score: number;
}

export function episodeKey(podcast: string, fileKey: string): string {
  return `${podcast}/${fileKey}`;
}

export function formatTimestamp(ms: number): string {
  const s = Math.floor(ms / 1000);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(Math.floor(s / 3600))}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}`;
}

/** Digest of what the index holds: the sorted (episode, entry file hash) pairs. Not the file's bytes. */
export function contentDigest(episodes: IndexedEpisode[]): string {
  const lines = [...episodes].sort(byKey).map((e) => `${e.key}\t${e.sha256}\n`);
  return sha256(`schema ${INDEX_SCHEMA}\n${lines.join('')}`);
}

/** Open an index read-only, or undefined when it is missing, not ours, or of another schema. */
export function openIndexReadonly(file: string): Database.Database | undefined {
  if (!existsSync(file)) return undefined;
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    const row = db.prepare(`SELECT value FROM meta WHERE key = 'schema'`).get() as { value: string } | undefined;
    if (row?.value === String(INDEX_SCHEMA)) return db;
  } catch {
    /* not an index of ours */
  }
  db?.close();
  return undefined;
}

export function readIndexedEpisodes(db: Database.Database): IndexedEpisode[] {
  return db.prepare(`SELECT key, entries_sha256 AS sha256 FROM episodes ORDER BY key`).all() as IndexedEpisode[];
}

export function countEntries(db: Database.Database): number {
  return (db.prepare(`SELECT COALESCE(SUM(entry_count), 0) AS n FROM episodes`).get() as { n: number }).n;
}

type Progress = (done: number, total: number) => void;

class Writer {
  private insertEpisode: Database.Statement;
  private insertEntry: Database.Statement;
  private insertFts: Database.Statement | undefined;
  private deleteFts: Database.Statement;
  private deleteEntries: Database.Statement;
  private deleteEpisode: Database.Statement;

  /** `deferFts`: fill the entries table only; the caller rebuilds FTS at the end (fast path for full builds). */
  constructor(
    private db: Database.Database,
    deferFts: boolean,
  ) {
    this.insertEpisode = db.prepare(
      `INSERT OR REPLACE INTO episodes(key, id, podcast, file_key, title, published, entries_sha256, entry_count) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.insertEntry = db.prepare(`INSERT INTO entries(id, episode_key, start_ms, end_ms, text) VALUES (?, ?, ?, ?, ?)`);
    this.insertFts = deferFts ? undefined : db.prepare(`INSERT INTO entries_fts(rowid, text) VALUES (?, ?)`);
    this.deleteFts = db.prepare(`INSERT INTO entries_fts(entries_fts, rowid, text) SELECT 'delete', rowid, text FROM entries WHERE episode_key = ?`);
    this.deleteEntries = db.prepare(`DELETE FROM entries WHERE episode_key = ?`);
    this.deleteEpisode = db.prepare(`DELETE FROM episodes WHERE key = ?`);
  }

  remove(key: string): void {
    this.deleteFts.run(key);
    this.deleteEntries.run(key);
    this.deleteEpisode.run(key);
  }

  add(key: string, sha: string, file: EntryFile): void {
    const ep = file.episode;
    this.insertEpisode.run(key, ep.id, ep.podcast, ep.fileKey, ep.title, ep.published ?? null, sha, file.entries.length);
    for (const e of file.entries) {
      const { lastInsertRowid } = this.insertEntry.run(e.id, key, e.startMs, e.endMs, e.text);
      this.insertFts?.run(lastInsertRowid, e.text);
    }
  }
}

/** Remove temp files a killed build left beside the index (ours only: `.<name>.<pid>.<rand>.podline-tmp`). */
export function removeStaleTemps(indexFile: string): void {
  const dir = path.dirname(indexFile);
  const prefix = `.${path.basename(indexFile)}.`;
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (name.startsWith(prefix) && (name.endsWith(TEMP_SUFFIX) || name.includes(`${TEMP_SUFFIX}-`))) rmSync(path.join(dir, name), { force: true });
  }
}

/**
 * Finish what a killed writer left: if an update was cut short, its rollback journal (`<index>-journal`) is
 * still there, and SQLite restores the last committed index when it next opens it read-write. Do that now,
 * before anything reads the index or replaces it (a journal left beside a replaced file would be applied to
 * the wrong database). An index that cannot be recovered is removed with its journal, to be rebuilt.
 */
export function recoverIndex(indexFile: string): void {
  const journal = `${indexFile}-journal`;
  if (!existsSync(journal)) return;
  try {
    const db = new Database(indexFile, { fileMustExist: true });
    try {
      db.prepare('SELECT count(*) FROM sqlite_master').get();
    } finally {
      db.close();
    }
  } catch {
    rmSync(indexFile, { force: true });
  }
  rmSync(journal, { force: true }); // empty or gone after a rollback; stale if the index itself is gone
}

/** Build a complete index of `episodes` in a temp file, then rename it over `indexFile`. */
export async function buildFullIndex(indexFile: string, episodes: EpisodeToIndex[], progress?: Progress): Promise<void> {
  await fsp.mkdir(path.dirname(indexFile), { recursive: true });
  removeStaleTemps(indexFile);
  const tmp = tempPathFor(indexFile);
  try {
    const db = new Database(tmp);
    try {
      // A temp file nobody reads yet: no journal, no fsync per transaction; one fsync-equivalent via close+rename.
      db.pragma('journal_mode = OFF');
      db.pragma('synchronous = OFF');
      db.pragma('page_size = 8192');
      db.exec(SCHEMA_SQL);
      db.prepare(`INSERT INTO meta(key, value) VALUES ('schema', ?)`).run(String(INDEX_SCHEMA));
      const writer = new Writer(db, true);
      const BATCH = 50;
      for (let i = 0; i < episodes.length; i += BATCH) {
        const slice = episodes.slice(i, i + BATCH);
        const files = await Promise.all(slice.map((e) => e.load()));
        db.transaction(() => slice.forEach((e, j) => writer.add(e.key, e.sha256, files[j])))();
        progress?.(Math.min(i + BATCH, episodes.length), episodes.length);
      }
      db.exec(`INSERT INTO entries_fts(entries_fts) VALUES ('rebuild')`);
      db.exec(`INSERT INTO entries_fts(entries_fts) VALUES ('optimize')`);
      db.pragma('journal_mode = DELETE');
    } finally {
      db.close();
    }
    const fh = await fsp.open(tmp, 'r+');
    await fh.sync();
    await fh.close();
    await fsp.rename(tmp, indexFile);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  }
}

/** Re-index `changed` and drop `removed` episodes in one transaction on the existing index. */
export async function updateIndex(indexFile: string, changed: EpisodeToIndex[], removed: string[], progress?: Progress): Promise<void> {
  const files: EntryFile[] = [];
  for (const e of changed) files.push(await e.load());
  const db = new Database(indexFile, { fileMustExist: true });
  try {
    db.pragma('journal_mode = DELETE');
    db.pragma('synchronous = FULL');
    const writer = new Writer(db, false);
    db.transaction(() => {
      for (const key of removed) writer.remove(key);
      changed.forEach((e, i) => {
        writer.remove(e.key);
        writer.add(e.key, e.sha256, files[i]);
        progress?.(i + 1, changed.length);
      });
    })();
  } finally {
    db.close();
  }
}

/**
 * Best hits for a query (see toFtsQuery for the syntax), best BM25 first, ties by episode and time.
 *
 * Ranked inside FTS5 first: the `top` pass reads only rowids and BM25 scores to find the score of the
 * `limit`-th hit; only matches scoring at least that well are then joined with their entry and episode
 * and get a snippet. Joining and snippeting every match before the LIMIT made a common word read the whole
 * entries table. Ties across the cut are kept, so the hits are exactly those of the join-everything query.
 */
export const SEARCH_SQL = `
WITH top AS (SELECT rank FROM entries_fts WHERE entries_fts MATCH @q ORDER BY rank LIMIT @n)
SELECT e.id AS entryId, ep.podcast, ep.id AS episodeId, ep.title AS episodeTitle, ep.file_key AS fileKey,
       ep.published, e.start_ms AS startMs, e.end_ms AS endMs,
       snippet(entries_fts, 0, '[', ']', '…', 16) AS snippet, bm25(entries_fts) AS score
  FROM entries_fts
  JOIN entries e ON e.rowid = entries_fts.rowid
  JOIN episodes ep ON ep.key = e.episode_key
 WHERE entries_fts MATCH @q AND bm25(entries_fts) <= (SELECT max(rank) FROM top)
 ORDER BY score, e.episode_key, e.start_ms
 LIMIT @n`;

export function searchIndex(db: Database.Database, query: string, limit = 10): SearchHit[] {
  const rows = db.prepare(SEARCH_SQL).all({ q: toFtsQuery(query), n: Math.max(1, Math.floor(limit)) }) as Array<Omit<SearchHit, 'timestamp'> & { published: string | null }>;
  return rows.map((r) => ({ ...r, published: r.published ?? undefined, timestamp: formatTimestamp(r.startMs) }));
}
