/**
 * The page's queries against the web index (see web-index.ts for the layout). Runs in the browser over
 * HTTP range reads, and in Node over better-sqlite3 in tests and the benchmark's floor: only SQL goes
 * through `Run`, so both run exactly the same statements.
 */
import { QueryError, toFtsQuery } from '@podline/search-index/query';

export { QueryError };

/** Runs one statement with positional parameters and returns its rows as objects. */
export type Run = <T>(sql: string, params: unknown[]) => Promise<T[]>;

/** Marks around matched words in snippets (control characters: never in transcript text). */
export const MARK_OPEN = '\u0002';
export const MARK_CLOSE = '\u0003';

export interface PageEpisode {
  n: number;
  id: string;
  podcast: string;
  fileKey: string;
  title: string;
  published: string | null;
}

export interface PageHit {
  episode: PageEpisode;
  startMs: number;
  endMs: number;
  /** Text with MARK_OPEN/MARK_CLOSE around matched words. */
  snippet: string;
}

export interface PageResults {
  hits: PageHit[];
  /** 'best': BM25 order (ties: newest first); 'newest': too many matches to rank, newest first. */
  order: 'best' | 'newest';
}

export interface SearchSettings {
  rankCap: number;
  limit: number;
}

/** FTS5's unicode61 with remove_diacritics 2 folds case and marks this way (close enough for a lookup key). */
export function foldTerm(word: string): string {
  return word.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
}

const SINGLE_WORD = /^"([\p{L}\p{N}]+)"$/u;

async function episodesByNumber(run: Run, ns: number[]): Promise<Map<number, PageEpisode>> {
  if (!ns.length) return new Map();
  const rows = await run<PageEpisode>(
    `SELECT n, id, podcast, file_key AS fileKey, title, published FROM episodes WHERE n IN (${ns.map(() => '?').join(',')})`,
    ns,
  );
  return new Map(rows.map((r) => [r.n, r]));
}

/** The words a MATCH expression (from toFtsQuery) looks for, folded; `prefix` for word* terms. */
export function matchTerms(match: string): Array<{ word: string; prefix: boolean }> {
  const out: Array<{ word: string; prefix: boolean }> = [];
  for (const m of match.matchAll(/"((?:[^"]|"")*)"(\*?)/g)) {
    const words = m[1].replace(/""/g, '"').match(/[\p{L}\p{N}]+/gu) ?? [];
    words.forEach((w, i) => out.push({ word: foldTerm(w), prefix: m[2] === '*' && i === words.length - 1 }));
  }
  return out;
}

/** The entry's text with the query's words marked (as FTS5 tokenizes: runs of letters and digits, folded). */
export function highlight(text: string, terms: Array<{ word: string; prefix: boolean }>): string {
  return text.replace(/[\p{L}\p{N}\p{M}]+/gu, (w) => {
    const f = foldTerm(w);
    return terms.some((t) => (t.prefix ? f.startsWith(t.word) : f === t.word)) ? `${MARK_OPEN}${w}${MARK_CLOSE}` : w;
  });
}

/**
 * Entries `rowids` (in that order) with their text marked for `match`, and their episodes. Read by rowid from
 * the entries table: a MATCH with a rowid list would walk every match of a common word again.
 */
async function hitsFor(run: Run, match: string, rowids: number[]): Promise<PageHit[]> {
  if (!rowids.length) return [];
  const rows = await run<{ rowid: number; episode: number; startMs: number; endMs: number; text: string }>(
    `SELECT rowid, episode, start_ms AS startMs, end_ms AS endMs, text FROM entries WHERE rowid IN (${rowids.map(() => '?').join(',')})`,
    rowids,
  );
  const byRowid = new Map(rows.map((r) => [r.rowid, r]));
  const episodes = await episodesByNumber(run, [...new Set(rows.map((r) => r.episode))].sort((a, b) => a - b));
  const terms = matchTerms(match);
  return rowids
    .map((id) => byRowid.get(id))
    .filter((r): r is NonNullable<typeof r> => !!r && episodes.has(r.episode))
    .map((r) => ({ episode: episodes.get(r.episode)!, startMs: r.startMs, endMs: r.endMs, snippet: highlight(r.text, terms) }));
}

/** Search as the page does. Throws QueryError for input with nothing to search for. */
export async function searchWebIndex(run: Run, input: string, settings: SearchSettings): Promise<PageResults> {
  const match = toFtsQuery(input);
  const limit = settings.limit;
  const single = SINGLE_WORD.exec(match);
  if (single) {
    // A frequent word: its best hits were ranked when the index was built.
    const top = await run<{ entry: number }>('SELECT entry FROM top_hits WHERE term = ? ORDER BY pos LIMIT ?', [foldTerm(single[1]), limit]);
    if (top.length) return { hits: await hitsFor(run, match, top.map((t) => t.entry)), order: 'best' };
  }
  // Count the matches up to the cap: rowid order reads only the start of each doclist.
  const [{ n }] = await run<{ n: number }>('SELECT count(*) AS n FROM (SELECT rowid FROM entries_fts WHERE entries_fts MATCH ? LIMIT ?)', [match, settings.rankCap + 1]);
  if (n === 0) return { hits: [], order: 'best' };
  if (n <= settings.rankCap) {
    const ranked = await run<{ rowid: number }>('SELECT rowid FROM entries_fts WHERE entries_fts MATCH ? ORDER BY rank, rowid LIMIT ?', [match, limit]);
    return { hits: await hitsFor(run, match, ranked.map((r) => r.rowid)), order: 'best' };
  }
  const newest = await run<{ rowid: number }>('SELECT rowid FROM entries_fts WHERE entries_fts MATCH ? ORDER BY rowid LIMIT ?', [match, limit]);
  return { hits: await hitsFor(run, match, newest.map((r) => r.rowid)), order: 'newest' };
}

export interface Moment {
  episode: PageEpisode;
  /** The entry being said at that second, when there is one. */
  text?: string;
}

/** `?e=<episode id>&t=<seconds>`: the episode and what is said then, or undefined for an unknown episode. */
export async function findMoment(run: Run, episodeId: string, seconds: number): Promise<Moment | undefined> {
  const [episode] = await run<PageEpisode>('SELECT n, id, podcast, file_key AS fileKey, title, published FROM episodes WHERE id = ? ORDER BY n LIMIT 1', [episodeId]);
  if (!episode) return undefined;
  const [entry] = await run<{ text: string }>(
    'SELECT text FROM entries WHERE episode = ? AND start_ms <= ? ORDER BY start_ms DESC LIMIT 1',
    [episode.n, Math.max(0, Math.floor(seconds * 1000))],
  );
  return { episode, text: entry?.text };
}

/** hh:mm:ss (or m:ss under an hour) of a time in ms. */
export function clock(ms: number): string {
  const s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor(s / 60) % 60);
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${mm.padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}
