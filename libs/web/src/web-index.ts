import Database from 'better-sqlite3';
import { closeSync, fstatSync, openSync, promises as fsp, readSync } from 'node:fs';
import * as path from 'node:path';
import { sha256File, tempPathFor } from '@podline/config';
import { bm25, encodePostings, foldTerm, idf, WEB_INDEX_FORMAT, WORD, writeVarints } from './page/search';
import { readVarint, type ReadAt } from './page/sqlite-reader';

export { WEB_INDEX_FORMAT };

/**
 * The web copy of a site's index: built deterministically from the FTS index the CLI and the Lambda use,
 * laid out for the page's own reader of the SQLite format (page/sqlite-reader.ts), which fetches the pages
 * of one b-tree level in parallel over HTTP range requests. What a cold query costs is the b-tree levels it
 * descends (round trips) and the pages it touches (bytes), so:
 * - `terms`: one row per word (FTS5's own tokens, from `fts5vocab`), a WITHOUT ROWID b-tree by word, with its
 *   number of entries.
 * - `hits`: each word's best 20 entries in BM25 order (computed here as FTS5 computes `bm25()`), with their
 *   episode, times and text, clustered by word: a one-word query reads one path of this b-tree (and of
 *   `terms` beside it, for the count), then the episodes. Entries are repeated here (the file is about twice
 *   the size), so that the commonest kind of query reads one or two pages instead of twenty scattered ones.
 * - postings (entries and positions, for phrases, several words, prefixes): inline in the word's row when
 *   short, else in `postings` parts of about 3.5 KB (about one page each, consecutive, cut between entries,
 *   each decodable alone), with the first entry of each part in the word's row: a phrase or several words
 *   read a long list only where a rarer word's entries are.
 * - `entries`: rowids in recency order (newest episode first, then by time), episode number, times, length
 *   in tokens (BM25's document length) and text; `episodes` numbered newest first, with their first and last
 *   entry; `episodes_by_id` for links to a moment.
 * - 4 KiB pages, `VACUUM`, journal mode DELETE.
 */
/** Page size of the web index. */
export const WEB_PAGE_SIZE = 4096;
/** Queries (other than one word) with more matches than this are shown newest first, not ranked. */
export const DEFAULT_RANK_CAP = 40;
/** How many hits the page shows (and `hits` keeps per word). */
export const WEB_RESULT_LIMIT = 20;
/** Postings up to this size stay in the word's row; longer ones go to `postings`, in parts of at most PART_BYTES. */
const INLINE_POSTINGS = 200;
const PART_BYTES = 3500;
/** Longest text a `hits` row keeps (UTF-8 bytes): a row of an index b-tree stays on its page under ~1 KB. */
const HIT_TEXT_BYTES = 700;

const WEB_SCHEMA_SQL = `
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE episodes(
  n INTEGER PRIMARY KEY,         -- 1 = newest
  id TEXT NOT NULL,
  podcast TEXT NOT NULL,
  file_key TEXT NOT NULL,
  title TEXT NOT NULL,
  published TEXT,
  first_entry INTEGER NOT NULL,
  last_entry INTEGER NOT NULL
);
CREATE INDEX episodes_by_id ON episodes(id);
CREATE TABLE terms(term TEXT PRIMARY KEY, docs INTEGER NOT NULL, postings BLOB, first_part INTEGER, parts INTEGER, part_docs BLOB) WITHOUT ROWID;
CREATE TABLE hits(
  term TEXT NOT NULL,
  rank INTEGER NOT NULL,         -- 0 = best (BM25, as FTS5 ranks a one-word query)
  entry INTEGER NOT NULL,
  episode INTEGER NOT NULL,
  start_ms INTEGER NOT NULL,
  end_ms INTEGER NOT NULL,
  text TEXT NOT NULL,
  PRIMARY KEY(term, rank)
) WITHOUT ROWID;
CREATE TABLE entries(
  rowid INTEGER PRIMARY KEY,     -- newest episode first, then by start
  episode INTEGER NOT NULL,
  start_ms INTEGER NOT NULL,
  end_ms INTEGER NOT NULL,
  tokens INTEGER NOT NULL,
  text TEXT NOT NULL
);
CREATE TABLE postings(rowid INTEGER PRIMARY KEY, data BLOB NOT NULL);
`;

export interface WebIndexOptions {
  rankCap?: number;
}

export interface WebIndexInfo {
  episodes: number;
  entries: number;
  /** Words in the index. */
  terms: number;
  /** Bytes a reader takes first on opening it: the header and every table's root page (at most 16 pages). */
  head: number;
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
        CREATE TEMP TABLE numbered AS
          SELECT row_number() OVER (ORDER BY published IS NULL, published DESC, key) AS n, key, id, podcast, file_key, title, published FROM src.episodes;
        CREATE TEMP TABLE staged AS
          SELECT row_number() OVER (ORDER BY ep.n, e.start_ms, e.rowid) AS rowid, ep.n AS episode, e.start_ms, e.end_ms, e.text
            FROM src.entries e JOIN temp.numbered ep ON ep.key = e.episode_key;
        CREATE VIRTUAL TABLE temp.fts USING fts5(text, content='', tokenize='unicode61 remove_diacritics 2');
        INSERT INTO temp.fts(rowid, text) SELECT rowid, text FROM temp.staged ORDER BY rowid;
      `);
      db.exec('DETACH DATABASE src');
      // Each entry's length in tokens (BM25's document length): FTS5's own count.
      const lengths = new Map<number, number>();
      let tokens = 0;
      for (const [id, sz] of db.prepare('SELECT id, sz FROM temp.fts_docsize').raw().iterate() as Iterable<[number, Buffer]>) {
        const [n] = readVarint(sz, 0); // FTS5 stores sizes as SQLite varints
        lengths.set(id, n);
        tokens += n;
      }
      const rows = lengths.size;
      const avgdl = rows ? tokens / rows : 1;
      db.transaction(() => {
        db.exec(`
          INSERT INTO episodes(n, id, podcast, file_key, title, published, first_entry, last_entry)
            SELECT n, id, podcast, file_key, title, published, coalesce(r.lo, 0), coalesce(r.hi, -1)
              FROM temp.numbered ep LEFT JOIN (SELECT episode, min(rowid) AS lo, max(rowid) AS hi FROM temp.staged GROUP BY episode) r ON r.episode = ep.n
             ORDER BY n;
        `);
        db.exec('CREATE TEMP TABLE lengths(id INTEGER PRIMARY KEY, n INTEGER NOT NULL)');
        const length = db.prepare('INSERT INTO temp.lengths(id, n) VALUES (?, ?)');
        for (const [id, n] of lengths) length.run(id, n);
        db.exec(`
          INSERT INTO entries(rowid, episode, start_ms, end_ms, tokens, text)
            SELECT s.rowid, s.episode, s.start_ms, s.end_ms, coalesce(l.n, 0), s.text FROM temp.staged s LEFT JOIN temp.lengths l ON l.id = s.rowid ORDER BY s.rowid;
          DROP TABLE temp.lengths;
        `);
      })();

      // Every word FTS5 found, with its entries and positions (fts5vocab 'instance': in word, entry, position order).
      const words: Array<{ term: string; docs: number; top: number[]; parts: Buffer[]; partDocs: number[] }> = [];
      let term: string | undefined;
      let docs: number[] = [];
      let positions: number[][] = [];
      const finish = () => {
        if (term === undefined) return;
        const w = idf(rows, docs.length);
        const top = docs
          .map((doc, i) => ({ doc, score: bm25([positions[i].length], lengths.get(doc) ?? 0, [w], avgdl) }))
          .sort((a, b) => a.score - b.score || a.doc - b.doc)
          .slice(0, WEB_RESULT_LIMIT)
          .map((r) => r.doc);
        // Parts cut between entries once they reach PART_BYTES; each starts from entry 0 (decodable alone).
        const parts: Buffer[] = [];
        const partDocs: number[] = [];
        for (let i = 0; i < docs.length; ) {
          const from = i;
          const out: number[] = [];
          while (i < docs.length && out.length < PART_BYTES) {
            encodePostings([docs[i]], [positions[i]], i === from ? 0 : docs[i - 1], out);
            i++;
          }
          parts.push(Buffer.from(out));
          partDocs.push(docs[from]);
        }
        words.push({ term, docs: docs.length, top, parts, partDocs });
      };
      db.exec(`CREATE VIRTUAL TABLE temp.instances USING fts5vocab(temp, fts, 'instance')`);
      for (const [t, doc, offset] of db.prepare('SELECT term, doc, offset FROM temp.instances').raw().iterate() as Iterable<[string, number, number]>) {
        if (t !== term) {
          finish();
          term = t;
          docs = [];
          positions = [];
        }
        if (docs[docs.length - 1] !== doc) {
          docs.push(doc);
          positions.push([]);
        }
        positions[positions.length - 1].push(offset);
      }
      finish();
      db.transaction(() => {
        const insertTerm = db.prepare('INSERT INTO terms(term, docs, postings, first_part, parts, part_docs) VALUES (?, ?, ?, ?, ?, ?)');
        db.exec('CREATE TEMP TABLE best(term TEXT NOT NULL, rank INTEGER NOT NULL, entry INTEGER NOT NULL)');
        const insertBest = db.prepare('INSERT INTO temp.best(term, rank, entry) VALUES (?, ?, ?)');
        const insertPart = db.prepare('INSERT INTO postings(rowid, data) VALUES (?, ?)');
        let part = 1;
        for (const w of words) {
          w.top.forEach((entry, rank) => insertBest.run(w.term, rank, entry));
          if (w.parts.length === 1 && w.parts[0].length <= INLINE_POSTINGS) insertTerm.run(w.term, w.docs, w.parts[0], null, null, null);
          else {
            insertTerm.run(w.term, w.docs, null, part, w.parts.length, Buffer.from(writeVarints(w.partDocs.map((d, i) => d - (i ? w.partDocs[i - 1] : 0)))));
            for (const data of w.parts) insertPart.run(part++, data);
          }
        }
        // Each word's best hits with what the page shows of them, together: a one-word query reads one place.
        // A long text keeps the part around the word (a row that fits its page: no overflow pages to chase).
        // (In SQL, row by row: the texts never all sit in memory at once.)
        db.function('podline_excerpt', { deterministic: true }, (text: unknown, word: unknown) => excerpt(String(text), String(word), HIT_TEXT_BYTES));
        db.exec(`
          INSERT INTO hits(term, rank, entry, episode, start_ms, end_ms, text)
            SELECT b.term, b.rank, e.rowid, e.episode, e.start_ms, e.end_ms, podline_excerpt(e.text, b.term)
              FROM temp.best b JOIN entries e ON e.rowid = b.entry ORDER BY b.term, b.rank;
          DROP TABLE temp.best;
        `);
        const meta = db.prepare('INSERT INTO meta(key, value) VALUES (?, ?)');
        meta.run('format', String(WEB_INDEX_FORMAT));
        meta.run('rank_cap', String(rankCap));
        meta.run('limit', String(WEB_RESULT_LIMIT));
        meta.run('rows', String(rows));
        meta.run('tokens', String(tokens));
      })();
      db.exec('DROP TABLE temp.instances; DROP TABLE temp.fts; DROP TABLE temp.staged; DROP TABLE temp.numbered;');
      db.exec('VACUUM');
      // Readers over HTTP cannot use a WAL; DELETE is the plain single-file layout.
      db.pragma('journal_mode = DELETE');
      const lastRoot = db.prepare('SELECT max(rootpage) FROM sqlite_schema').pluck().get() as number;
      counts = {
        episodes: (db.prepare('SELECT count(*) FROM episodes').pluck().get() as number) ?? 0,
        entries: rows,
        terms: words.length,
        head: Math.min(lastRoot, 16) * WEB_PAGE_SIZE,
      };
    } finally {
      db.close();
    }
    // Streamed: the web index is hundreds of megabytes for a large site.
    const [sha256, { size }] = await Promise.all([sha256File(tmp), fsp.stat(tmp)]);
    const file = `index-${sha256.slice(0, 16)}.sqlite`;
    await fsp.rename(tmp, path.join(dir, file));
    return { ...counts, bytes: size, sha256, file, rankCap };
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  }
}

/** A ReadAt over a local file (Node: tests, the benchmark's floor). */
export function fileReadAt(file: string): { readAt: ReadAt; bytes: number; close: () => void } {
  const fd = openSync(file, 'r');
  const bytes = fstatSync(fd).size;
  return {
    bytes,
    readAt: async (offset, length) => {
      const buf = Buffer.alloc(Math.max(0, Math.min(length, bytes - offset)));
      const n = readSync(fd, buf, 0, buf.length, offset);
      return new Uint8Array(buf.buffer, buf.byteOffset, n);
    },
    close: () => closeSync(fd),
  };
}

/**
 * `text` as it is when it fits `maxBytes` (UTF-8), else the part around the first place `word` (folded) is
 * said, cut at word boundaries, with "…" where it was cut.
 */
export function excerpt(text: string, word: string, maxBytes: number): string {
  const size = (s: string) => Buffer.byteLength(s);
  if (size(text) <= maxBytes) return text;
  let at = 0;
  for (const m of text.matchAll(WORD)) {
    if (foldTerm(m[0]) === word) {
      at = m.index!;
      break;
    }
  }
  let from = Math.max(0, at - Math.floor(maxBytes / 6));
  let to = Math.min(text.length, from + maxBytes);
  while (to > at && size(text.slice(from, to)) > maxBytes - 8) to--;
  // Whole words only.
  if (from > 0) from = text.indexOf(' ', from) >= 0 && text.indexOf(' ', from) < at ? text.indexOf(' ', from) + 1 : from;
  if (to < text.length) to = text.lastIndexOf(' ', to) > at ? text.lastIndexOf(' ', to) : to;
  return `${from > 0 ? '…' : ''}${text.slice(from, to)}${to < text.length ? '…' : ''}`;
}
