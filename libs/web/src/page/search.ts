/**
 * The page's search over the web index (see web-index.ts for the layout), read with the page's own SQLite
 * file reader (sqlite-reader.ts): over HTTP range requests in the browser, over the file in Node (tests, the
 * benchmark's floor). The same code runs in both.
 *
 * The query language is the CLI's (`toFtsQuery`: words, "phrases", prefix*, OR) with FTS5's meaning: AND binds
 * tighter than OR, a phrase's words are adjacent and in order, a prefix matches every word that starts with
 * it. Matches are ranked by BM25 exactly as FTS5 ranks them (`bm25()`, k1 1.2, b 0.75): a single word's best
 * hits were ranked when the index was built; other queries with at most `rankCap` matches are ranked here;
 * more than that are shown newest first.
 */
import { QueryError, toFtsQuery } from '@podline/search-index/query';
import { CorruptIndexError, SqliteFile, type ReadAt, type Row } from './sqlite-reader';

export { QueryError, CorruptIndexError };

/** Marks around matched words in snippets (control characters: never in transcript text). */
export const MARK_OPEN = '\u0002';
export const MARK_CLOSE = '\u0003';

/** The web index's format (site.json and the index's meta table say it). */
export const WEB_INDEX_FORMAT = 3;

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
  /** How many entries match (all of them, counted exactly). */
  matches: number;
}

export interface SearchSettings {
  rankCap: number;
  limit: number;
  /** Postings of more parts than this may be read only where a rarer word is (default LONG_PARTS). */
  longParts?: number;
}

/** FTS5's unicode61 with remove_diacritics 2 folds case and marks this way (close enough for a lookup key). */
export function foldTerm(word: string): string {
  return word.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
}

/** A run of what FTS5's unicode61 tokenizer keeps as a word (letters, numbers, marks, private use). */
export const WORD = /[\p{L}\p{N}\p{M}\p{Co}]+/gu;

/** The folded words of a piece of text, as the index holds them. */
export function words(text: string): string[] {
  return (text.match(WORD) ?? []).map(foldTerm).filter((w) => w.length > 0);
}

/* ---------- varints (the index's own blobs: postings and best hits) ---------- */

/** Unsigned LEB128, as the build writes them. */
export function writeVarints(values: Iterable<number>, out: number[] = []): number[] {
  for (let v of values) {
    while (v >= 128) {
      out.push((v % 128) | 128);
      v = Math.floor(v / 128);
    }
    out.push(v);
  }
  return out;
}

/** The first entries of a word's postings parts (varints, each the distance from the one before). */
function partStarts(bytes: Uint8Array): number[] {
  const out: number[] = [];
  let v = 0;
  let scale = 1;
  let last = 0;
  for (const b of bytes) {
    v += (b & 127) * scale;
    if (b < 128) {
      out.push((last += v));
      v = 0;
      scale = 1;
    } else scale *= 128;
  }
  return out;
}

/**
 * A term's postings: the entries it is in (ascending) and its positions in each (token offsets,
 * ascending): those of `docs[i]` are `pos[start[i]]` up to `pos[start[i + 1]]`. Encoded as varints: per
 * entry, the rowid's distance from the one before, the number of positions, then the positions as distances
 * from the one before (the first from 0).
 */
export interface Postings {
  docs: Int32Array;
  start: Int32Array;
  pos: Int32Array;
}

/** Append the varints of `docs` (ascending) and their positions to `out`, distances counted from `last`. */
export function encodePostings(docs: number[], positions: number[][], last = 0, out: number[] = []): number[] {
  docs.forEach((doc, i) => {
    const pos = positions[i];
    writeVarints([doc - last, pos.length], out);
    let lp = 0;
    for (const x of pos) {
      writeVarints([x - lp], out);
      lp = x;
    }
    last = doc;
  });
  return out;
}

/** Postings of consecutive parts (each decoded alone) as one list. */
export function concatPostings(lists: Postings[]): Postings {
  if (lists.length === 1) return lists[0];
  const nd = lists.reduce((n, l) => n + l.docs.length, 0);
  const np = lists.reduce((n, l) => n + l.pos.length, 0);
  const out: Postings = { docs: new Int32Array(nd), start: new Int32Array(nd + 1), pos: new Int32Array(np) };
  let d = 0;
  let p = 0;
  for (const l of lists) {
    out.docs.set(l.docs, d);
    out.pos.set(l.pos, p);
    for (let i = 0; i < l.docs.length; i++) out.start[d + i] = l.start[i] + p;
    d += l.docs.length;
    p += l.pos.length;
  }
  out.start[nd] = np;
  return out;
}

export function decodePostings(bytes: Uint8Array): Postings {
  // One pass over the bytes into arrays sized by them (every number takes at least a byte).
  const n = bytes.length;
  const docs = new Int32Array(n);
  const start = new Int32Array(n + 1);
  const pos = new Int32Array(n);
  let nd = 0;
  let np = 0;
  let i = 0;
  const next = (): number => {
    let v = 0;
    let scale = 1;
    for (;;) {
      if (i >= n) throw new CorruptIndexError('a postings list is cut short');
      const b = bytes[i++];
      v += (b & 127) * scale;
      if (b < 128) return v;
      scale *= 128;
    }
  };
  let doc = 0;
  while (i < n) {
    doc += next();
    const count = next();
    if (count === 0 || count > n || doc > 0x7fffffff) throw new CorruptIndexError('a postings list is malformed');
    docs[nd] = doc;
    start[nd++] = np;
    let p = 0;
    for (let j = 0; j < count; j++) pos[np++] = p += next();
  }
  start[nd] = np;
  // Copies sized to what was found: the working arrays (sized by the bytes) are released.
  return { docs: docs.slice(0, nd), start: start.slice(0, nd + 1), pos: pos.slice(0, np) };
}

/** FTS5's bm25() (fts5_aux.c): the score of one row, negative (lower is better), as ORDER BY rank sorts. */
export function bm25(freqs: number[], docLength: number, idfs: number[], avgdl: number): number {
  const k1 = 1.2;
  const b = 0.75;
  let score = 0;
  for (let i = 0; i < freqs.length; i++) score += idfs[i] * ((freqs[i] * (k1 + 1.0)) / (freqs[i] + k1 * (1 - b + (b * docLength) / avgdl)));
  return -1.0 * score;
}

/** FTS5's inverse document frequency of a phrase found in `hits` of `rows` rows. */
export function idf(rows: number, hits: number): number {
  const v = Math.log((rows - hits + 0.5) / (hits + 0.5));
  return v <= 0.0 ? 1e-6 : v;
}

/* ---------- the index ---------- */

interface TermRow {
  term: string;
  docs: number;
  postings: Uint8Array | null;
  firstPart: number | null;
  parts: number | null;
  /** The first entry of each part (long postings). */
  partDocs: number[] | null;
}

/** An open web index: its reader, the roots of its tables and its totals. */
export class WebIndex {
  private constructor(
    readonly file: SqliteFile,
    private readonly roots: Record<'terms' | 'hits' | 'postings' | 'entries' | 'episodes' | 'episodes_by_id', number>,
    /** Rows and tokens of the whole index (BM25's N and average length). */
    readonly rows: number,
    readonly avgdl: number,
  ) {}

  static async open(readAt: ReadAt, fileBytes: number, options: { firstRead?: number; maxGapPages?: number } = {}): Promise<WebIndex> {
    const file = await SqliteFile.open(readAt, fileBytes, options);
    const meta = new Map((await file.indexRange(await file.root('meta'), '', '\u{10FFFF}')).map((r) => [String(r[0]), String(r[1])]));
    if (meta.get('format') !== String(WEB_INDEX_FORMAT)) throw new CorruptIndexError(`format ${meta.get('format') ?? 'unknown'}, this page reads format ${WEB_INDEX_FORMAT}`);
    const roots = Object.fromEntries(await Promise.all(['terms', 'hits', 'postings', 'entries', 'episodes', 'episodes_by_id'].map(async (t) => [t, await file.root(t)]))) as WebIndex['roots'];
    const rows = Number(meta.get('rows'));
    const tokens = Number(meta.get('tokens'));
    return new WebIndex(file, roots, rows, rows ? tokens / rows : 1);
  }

  async terms(from: string, to?: string): Promise<TermRow[]> {
    const rows = await this.file.indexRange(this.roots.terms, from, to);
    return rows.map((r) => ({
      term: String(r[0]),
      docs: Number(r[1]),
      postings: (r[2] as Uint8Array | null) ?? null,
      firstPart: r[3] === null ? null : Number(r[3]),
      parts: r[4] === null ? null : Number(r[4]),
      partDocs: r[5] instanceof Uint8Array ? partStarts(r[5]) : null,
    }));
  }

  /** A word's best hits (BM25 order), with what the page shows of them. */
  async bestHits(term: string): Promise<Array<{ entry: number; episode: number; startMs: number; endMs: number; text: string }>> {
    const rows = await this.file.indexRange(this.roots.hits, term);
    return rows
      .map((r) => ({ rank: Number(r[1]), entry: Number(r[2]), episode: Number(r[3]), startMs: Number(r[4]), endMs: Number(r[5]), text: String(r[6]) }))
      .sort((a, b) => a.rank - b.rank);
  }

  /** Decoded postings by part (`p<rowid>`) and inline ones by word (`w<word>`): read and decoded once. */
  private readonly decoded = new Map<string, Postings>();
  private decodedBytes = 0;

  /**
   * A word's postings: all of them, or (`within`: entries, ascending) those of the parts that may hold these
   * entries, which is what matching against a rarer word needs. Parts read together, decoded once.
   */
  async postingsOf(t: TermRow, within?: ArrayLike<number>): Promise<Postings> {
    if (t.postings) return this.remember(`w${t.term}`, () => decodePostings(t.postings!));
    if (t.firstPart === null || !t.parts) throw new CorruptIndexError(`the postings of "${t.term}" are missing`);
    let parts = Array.from({ length: t.parts }, (_, i) => i);
    if (within && t.partDocs && t.partDocs.length === t.parts) {
      const starts = t.partDocs;
      const wanted = new Set<number>();
      let i = 0;
      for (let j = 0; j < within.length; j++) {
        const d = within[j];
        while (i + 1 < starts.length && starts[i + 1] <= d) i++;
        if (starts[i] <= d) wanted.add(i);
      }
      parts = [...wanted];
    }
    const missing = parts.filter((i) => !this.decoded.has(`p${t.firstPart! + i}`));
    const rows = await this.file.tableRows(this.roots.postings, missing.map((i) => t.firstPart! + i));
    const got = new Map<number, Postings>();
    for (const i of parts) {
      const key = `p${t.firstPart + i}`;
      const known = this.decoded.get(key);
      if (known) got.set(i, known);
      else {
        const data = rows.get(t.firstPart + i)?.[1];
        if (!(data instanceof Uint8Array)) throw new CorruptIndexError(`the postings of "${t.term}" are missing`);
        got.set(i, this.remember(key, () => decodePostings(data)));
      }
    }
    return concatPostings(parts.map((i) => got.get(i)!));
  }

  /** Keep decoded postings up to 64 MB, the least recently decoded dropped first. */
  private remember(key: string, decode: () => Postings): Postings {
    const known = this.decoded.get(key);
    if (known) return known;
    const p = decode();
    this.decoded.set(key, p);
    this.decodedBytes += p.docs.byteLength + p.start.byteLength + p.pos.byteLength;
    for (const [k, old] of this.decoded) {
      if (this.decodedBytes <= 64 * 1048576 || this.decoded.size <= 1) break;
      this.decoded.delete(k);
      this.decodedBytes -= old.docs.byteLength + old.start.byteLength + old.pos.byteLength;
    }
    return p;
  }

  async entries(rowids: number[]): Promise<Map<number, { episode: number; startMs: number; endMs: number; tokens: number; text: string }>> {
    const rows = await this.file.tableRows(this.roots.entries, rowids);
    return new Map([...rows].map(([id, r]) => [id, entryOf(r)]));
  }

  async episodes(ns: number[]): Promise<Map<number, EpisodeRow>> {
    const rows = await this.file.tableRows(this.roots.episodes, ns);
    return new Map([...rows].map(([n, r]) => [n, episodeOf(n, r)]));
  }

  async episodeById(id: string): Promise<EpisodeRow | undefined> {
    const found = await this.file.indexRange(this.roots.episodes_by_id, id);
    if (!found.length) return undefined;
    const n = Math.min(...found.map((r) => Number(r[1])));
    return (await this.episodes([n])).get(n);
  }

  async entryRange(first: number, last: number) {
    return (await this.file.tableRange(this.roots.entries, first, last)).map(([id, r]) => ({ id, ...entryOf(r) }));
  }
}

// Columns after the rowid (which SQLite stores as NULL in the record): see WEB_SCHEMA_SQL.
const entryOf = (r: Row) => ({ episode: Number(r[1]), startMs: Number(r[2]), endMs: Number(r[3]), tokens: Number(r[4]), text: String(r[5]) });
/** An episode as the page shows it, and the rowids of its first and last entry. */
interface EpisodeRow {
  episode: PageEpisode;
  firstEntry: number;
  lastEntry: number;
}
const episodeOf = (n: number, r: Row): EpisodeRow => ({
  episode: { n, id: String(r[1]), podcast: String(r[2]), fileKey: String(r[3]), title: String(r[4]), published: r[5] === null ? null : String(r[5]) },
  firstEntry: Number(r[6]),
  lastEntry: Number(r[7]),
});

/* ---------- queries ---------- */

/** One phrase of a query: its words in order, the last one maybe a prefix. */
export interface Phrase {
  words: string[];
  prefix: boolean;
}

/** A MATCH expression from toFtsQuery as FTS5 reads it: phrases joined by AND (implicit), groups by OR. */
export function parseMatch(match: string): Phrase[][] {
  const groups: Phrase[][] = [[]];
  for (const m of match.matchAll(/"((?:[^"]|"")*)"(\*?)|\bOR\b/g)) {
    if (m[0] === 'OR') {
      groups.push([]);
      continue;
    }
    const ws = words(m[1].replace(/""/g, '"'));
    if (ws.length) groups[groups.length - 1].push({ words: ws, prefix: m[2] === '*' });
  }
  return groups.filter((g) => g.length);
}

/** The words a MATCH expression looks for, folded; `prefix` for the last word of a word* phrase. */
export function matchTerms(match: string): Array<{ word: string; prefix: boolean }> {
  return parseMatch(match).flat().flatMap((p) => p.words.map((word, i) => ({ word, prefix: p.prefix && i === p.words.length - 1 })));
}

/** The entry's text with the query's words marked (as FTS5 tokenizes: runs of word characters, folded). */
export function highlight(text: string, terms: Array<{ word: string; prefix: boolean }>): string {
  return text.replace(WORD, (w) => {
    const f = foldTerm(w);
    return terms.some((t) => (t.prefix ? f.startsWith(t.word) : f === t.word)) ? `${MARK_OPEN}${w}${MARK_CLOSE}` : w;
  });
}

/** Postings of several terms as one (a prefix): every entry of any, positions merged. */
function union(lists: Postings[]): Postings {
  if (lists.length === 1) return lists[0];
  // (entry, position) pairs as one number each (entry × 2^21 + position: exact in a double), sorted natively.
  const pairs = new Float64Array(lists.reduce((n, l) => n + l.pos.length, 0));
  let k = 0;
  for (const l of lists) for (let i = 0; i < l.docs.length; i++) for (let j = l.start[i]; j < l.start[i + 1]; j++) pairs[k++] = l.docs[i] * 2097152 + l.pos[j];
  pairs.sort();
  const docs = new Int32Array(pairs.length);
  const start = new Int32Array(pairs.length + 1);
  const pos = new Int32Array(pairs.length);
  let nd = 0;
  pairs.forEach((x, i) => {
    const doc = Math.floor(x / 2097152);
    if (nd === 0 || docs[nd - 1] !== doc) {
      docs[nd] = doc;
      start[nd++] = i;
    }
    pos[i] = x - doc * 2097152;
  });
  start[nd] = pairs.length;
  return { docs: docs.slice(0, nd), start: start.slice(0, nd + 1), pos };
}

/** First index in sorted `xs` at or after `from` whose value is ≥ `x` (galloping, then binary search). */
function seek(xs: ArrayLike<number>, x: number, from: number): number {
  let step = 1;
  let hi = from;
  while (hi < xs.length && xs[hi] < x) {
    from = hi + 1;
    hi += step;
    step *= 2;
  }
  hi = Math.min(hi, xs.length);
  while (from < hi) {
    const mid = (from + hi) >> 1;
    if (xs[mid] < x) from = mid + 1;
    else hi = mid;
  }
  return from;
}

/** A word's postings longer than this many parts may be read only where a rarer word's entries are. */
const LONG_PARTS = 4;

/** An entry set with a count per entry, entries ascending. */
interface Occurrences {
  docs: number[];
  counts: number[];
}

/** Where a phrase occurs: its words adjacent, in order (a one-word phrase: every occurrence of the word). */
function phraseHits(words: Postings[]): Occurrences {
  const out: Occurrences = { docs: [], counts: [] };
  const [first, ...rest] = words;
  const at = rest.map(() => 0);
  for (let i = 0; i < first.docs.length; i++) {
    const doc = first.docs[i];
    let all = true;
    for (let j = 0; j < rest.length && all; j++) {
      at[j] = seek(rest[j].docs, doc, at[j]);
      all = rest[j].docs[at[j]] === doc;
    }
    if (!all) continue;
    let n = 0;
    for (let p = first.start[i]; p < first.start[i + 1]; p++) {
      const x = first.pos[p];
      let ok = true;
      for (let j = 0; j < rest.length && ok; j++) {
        const r = rest[j];
        const d = at[j];
        ok = false;
        for (let q = r.start[d]; q < r.start[d + 1]; q++) if (r.pos[q] === x + j + 1) ok = true;
      }
      if (ok) n++;
    }
    if (n) {
      out.docs.push(doc);
      out.counts.push(n);
    }
  }
  return out;
}

/** The entries in every list (each ascending), ascending; none for no lists. */
function intersectAll(lists: Array<ArrayLike<number>>): number[] {
  if (!lists.length) return [];
  const [smallest] = [...lists].sort((a, b) => a.length - b.length);
  const cursors = lists.map(() => 0);
  const out: number[] = [];
  for (let i = 0; i < smallest.length; i++) {
    const doc = smallest[i];
    let all = true;
    for (let j = 0; j < lists.length && all; j++) {
      cursors[j] = seek(lists[j], doc, cursors[j]);
      all = lists[j][cursors[j]] === doc;
    }
    if (all) out.push(doc);
  }
  return out;
}

/** The union of two ascending lists, ascending, without repeats. */
function mergeSorted(a: number[], b: number[]): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const x = j >= b.length || (i < a.length && a[i] <= b[j]) ? a[i++] : b[j++];
    if (out[out.length - 1] !== x) out.push(x);
  }
  return out;
}

/** The count of `o` in entry `doc` (0 when it is not there). */
function countIn(o: Occurrences, doc: number): number {
  const i = seek(o.docs, doc, 0);
  return o.docs[i] === doc ? o.counts[i] : 0;
}

/** Search as the page does. Throws QueryError for input with nothing to search for. */
export async function searchWebIndex(index: WebIndex, input: string, settings: SearchSettings): Promise<PageResults> {
  const match = toFtsQuery(input);
  const groups = parseMatch(match);
  if (!groups.length) throw new QueryError(`the query "${input}" has no words to search for`);
  const phrases = groups.flat();
  const terms = matchTerms(match);

  // One word: its best hits were ranked when the index was built, and are stored together.
  if (phrases.length === 1 && phrases[0].words.length === 1 && !phrases[0].prefix) {
    const word = phrases[0].words[0];
    const [[row], best] = await Promise.all([index.terms(word), index.bestHits(word)]);
    if (!row) return { hits: [], order: 'best', matches: 0 };
    const entries = new Map(best.slice(0, settings.limit).map((b) => [b.entry, { ...b, tokens: 0 }]));
    return { hits: await hitsFor(index, [...entries.keys()], terms, entries), order: 'best', matches: row.docs };
  }

  // Every word's row (one round trip per level of the terms b-tree, all words at once): `word`, or `word*`
  // for a prefix (every row it starts).
  const keyOf = (p: Phrase, i: number) => (p.prefix && i === p.words.length - 1 ? `${p.words[i]}*` : p.words[i]);
  const keys = [...new Set(phrases.flatMap((p) => p.words.map((_, i) => keyOf(p, i))))];
  const rows = new Map(
    await Promise.all(keys.map(async (k) => [k, k.endsWith('*') ? await index.terms(k.slice(0, -1), `${k.slice(0, -1)}\u{10FFFF}`) : await index.terms(k)] as const)),
  );

  // Postings, in at most two rounds. First every word's whole postings, except a long list (more than
  // LONG_PARTS parts) that a rarer word can narrow: in a phrase, its rarest other word; a word alone, the
  // rarest of its group's other phrases (all read in the first round). Then those long lists, only the parts
  // where the narrowing entries are. A phrase's matches stay exact: a phrase is narrowed only by its own
  // words, a word alone only by its group (what it matches outside it is never used; its document frequency
  // comes from its row).
  const rowsOf = (p: Phrase, i: number) => rows.get(keyOf(p, i)) ?? [];
  const docsOf = (r: TermRow[]) => r.reduce((n, t) => n + t.docs, 0);
  const long = (p: Phrase, i: number) => !(p.prefix && i === p.words.length - 1) && rowsOf(p, i).length === 1 && (rowsOf(p, i)[0].parts ?? 0) > (settings.longParts ?? LONG_PARTS);
  const estimate = (p: Phrase) => Math.min(...p.words.map((_, i) => docsOf(rowsOf(p, i))));
  // For each phrase, for each word: undefined (read whole) or what narrows it.
  const narrowBy = phrases.map((p) => p.words.map((): { word: number } | { group: true } | undefined => undefined));
  let at = 0;
  for (const g of groups) {
    const driver = g.reduce((best, p, j) => (estimate(p) < estimate(g[best]) ? j : best), 0);
    g.forEach((p, j) => {
      const mine = narrowBy[at + j];
      if (p.words.length > 1) {
        const rarest = p.words.reduce((best, _, i) => (docsOf(rowsOf(p, i)) < docsOf(rowsOf(p, best)) ? i : best), 0);
        p.words.forEach((_, i) => {
          if (i !== rarest && long(p, i) && docsOf(rowsOf(p, rarest)) * 2 < rowsOf(p, i)[0].parts!) mine[i] = { word: rarest };
        });
      } else if (j !== driver && long(p, 0) && estimate(g[driver]) * 2 < rowsOf(p, 0)[0].parts!) mine[0] = { group: true };
    });
    at += g.length;
  }
  const lists = phrases.map((p) => p.words.map((): Postings | undefined => undefined));
  const read = (p: Phrase, i: number, within?: ArrayLike<number>) => Promise.all(rowsOf(p, i).map((t) => index.postingsOf(t, within))).then(union);
  await Promise.all(phrases.flatMap((p, pi) => p.words.map(async (_, i) => void (narrowBy[pi][i] ? undefined : (lists[pi][i] = await read(p, i))))));
  const phraseOf = (pi: number) => {
    const parts = lists[pi] as Postings[];
    return parts.some((x) => !x.docs.length) ? { docs: [], counts: [] } : phraseHits(parts);
  };
  const narrowed = (pi: number, kind: 'word' | 'group') => narrowBy[pi].some((b) => !!b && kind in b);
  const readNarrowed = (pi: number, within: (by: { word: number } | { group: true }) => ArrayLike<number>) =>
    Promise.all(
      phrases[pi].words.map(async (_, i) => {
        const by = narrowBy[pi][i];
        if (by) lists[pi][i] = await read(phrases[pi], i, within(by));
      }),
    );
  // Phrases narrowed by their own rarest word (read whole in the first round).
  await Promise.all(phrases.map((_, pi) => (narrowed(pi, 'word') ? readNarrowed(pi, (by) => lists[pi][(by as { word: number }).word]!.docs) : undefined)));
  const occurrences: Occurrences[] = phrases.map((_, pi) => (narrowed(pi, 'group') ? { docs: [], counts: [] } : phraseOf(pi)));
  // Words alone narrowed by their group: where every other phrase of it is (never empty of phrases: the
  // group's rarest is read whole).
  at = 0;
  for (const g of groups) {
    const mine = g.map((_, j) => at + j);
    const exact = mine.filter((pi) => !narrowed(pi, 'group'));
    const groupDocs = intersectAll(exact.map((pi) => occurrences[pi].docs));
    await Promise.all(
      mine
        .filter((pi) => narrowed(pi, 'group'))
        .map(async (pi) => {
          await readNarrowed(pi, () => groupDocs);
          occurrences[pi] = phraseOf(pi);
        }),
    );
    at += g.length;
  }

  // AND within a group (the entries of its phrase with the fewest, kept where every other phrase is), OR
  // between groups. A phrase counts in an entry only where its group matches (as in FTS5, whose AND node
  // clears its phrases' instances in rows it does not match).
  const matchedBy: number[][] = [];
  let docs: number[] = [];
  let k = 0;
  for (const g of groups) {
    const here = intersectAll(occurrences.slice(k, k + g.length).map((o) => o.docs));
    for (let j = 0; j < g.length; j++) matchedBy[k + j] = here;
    docs = k === 0 ? here : mergeSorted(docs, here);
    k += g.length;
  }
  if (!docs.length) return { hits: [], order: 'best', matches: 0 };
  if (docs.length > settings.rankCap) return { hits: await hitsFor(index, docs.slice(0, settings.limit), terms), order: 'newest', matches: docs.length };

  // BM25 over every match: each phrase's document frequency, each match's length.
  // (A word alone: its row's count, exact even where its list was read only where its group is.)
  const idfs = occurrences.map((o, pi) => idf(index.rows, phrases[pi].words.length === 1 && !phrases[pi].prefix ? docsOf(rowsOf(phrases[pi], 0)) : o.docs.length));
  const entries = await index.entries(docs);
  const ranked = docs
    .map((doc) => ({ doc, score: bm25(occurrences.map((o, i) => (matchedBy[i][seek(matchedBy[i], doc, 0)] === doc ? countIn(o, doc) : 0)), entries.get(doc)?.tokens ?? 0, idfs, index.avgdl) }))
    .sort((a, b) => a.score - b.score || a.doc - b.doc)
    .slice(0, settings.limit)
    .map((r) => r.doc);
  return { hits: await hitsFor(index, ranked, terms, entries), order: 'best', matches: docs.length };
}

/** Entries `rowids` (in that order) with their text marked, and their episodes. */
async function hitsFor(index: WebIndex, rowids: number[], terms: Array<{ word: string; prefix: boolean }>, known?: Awaited<ReturnType<WebIndex['entries']>>): Promise<PageHit[]> {
  if (!rowids.length) return [];
  const entries = known ?? (await index.entries(rowids));
  const episodes = await index.episodes([...new Set([...entries.values()].map((e) => e.episode))]);
  return rowids
    .map((id) => entries.get(id))
    .filter((e): e is NonNullable<typeof e> => !!e && episodes.has(e.episode))
    .map((e) => ({ episode: episodes.get(e.episode)!.episode, startMs: e.startMs, endMs: e.endMs, snippet: highlight(e.text, terms) }));
}

export interface Moment {
  episode: PageEpisode;
  /** The entry being said at that second, when there is one. */
  text?: string;
}

/** `?e=<episode id>&t=<seconds>`: the episode and what is said then, or undefined for an unknown episode. */
export async function findMoment(index: WebIndex, episodeId: string, seconds: number): Promise<Moment | undefined> {
  const found = await index.episodeById(episodeId);
  if (!found) return undefined;
  const { episode, firstEntry, lastEntry } = found;
  const at = Math.max(0, Math.floor(seconds * 1000));
  const entries = firstEntry > 0 && lastEntry >= firstEntry ? await index.entryRange(firstEntry, lastEntry) : [];
  const said = entries.filter((e) => e.startMs <= at).sort((a, b) => b.startMs - a.startMs || b.id - a.id)[0];
  return { episode, text: said?.text };
}

/** hh:mm:ss (or m:ss under an hour) of a time in ms. */
export function clock(ms: number): string {
  const s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor(s / 60) % 60);
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${mm.padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}
