import Database from 'better-sqlite3';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildFullIndex, type EntryFile, type EpisodeToIndex } from '@podline/search-index';
import { toFtsQuery } from '@podline/search-index/query';
import { buildWebIndex, fileReadAt } from '../web-index';
import { CorruptIndexError, searchWebIndex, WebIndex, findMoment } from './search';
import { httpReadAt, SqliteFile, type ReadAt } from './sqlite-reader';
import { startStaticServer } from '../static-server';
import { createServer } from 'node:http';
import { mkdirSync } from 'node:fs';

/**
 * The page's search engine and SQLite reader against SQLite and FTS5 themselves, on an index big enough for
 * b-trees of several levels, postings in many parts and entries that overflow their page.
 */
jest.setTimeout(120_000);

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const rand = rng(7);
// A Zipf-like vocabulary: a few very common words, many rare ones (and some with diacritics and digits).
const VOCAB = Array.from({ length: 1500 }, (_, i) => {
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  let w = '';
  let x = i + 7;
  do {
    w += letters[x % 26];
    x = Math.floor(x / 26);
  } while (x > 0);
  return i % 97 === 5 ? `${w}é` : i % 89 === 3 ? `${w}${i}` : w;
});
const word = () => VOCAB[Math.min(VOCAB.length - 1, Math.floor(1 / (rand() * 0.999 + 0.001)) - 1)];

describe('the page search engine against FTS5 (several-level b-trees)', () => {
  let dir: string;
  let webFile: string;
  let ref: Database.Database;
  let index: WebIndex;
  let close: () => void;
  const settings = { rankCap: 40, limit: 20 };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'podline-web-engine-'));
    const fts = path.join(dir, 'index.sqlite');
    const episodes: EpisodeToIndex[] = [];
    for (let n = 0; n < 30; n++) {
      const fileKey = `2024-02-${String(n + 1).padStart(2, '0')}_ep_${n}`;
      const entries = Array.from({ length: 120 }, (_, i) => ({
        id: `${n}-${i}`,
        podcast: 'show',
        startMs: i * 5_000,
        endMs: i * 5_000 + 4_000,
        // One long entry per episode (more than a page: its text overflows).
        text: i === 60 ? Array.from({ length: 2000 }, word).join(' ') + ' lighthouse' : Array.from({ length: 4 + Math.floor(rand() * 14) }, word).join(' '),
      }));
      const file = { format: 1, episode: { id: `guid-${n}`, podcast: 'show', fileKey, title: `Episode ${n}`, published: `2024-02-${String(n + 1).padStart(2, '0')}T08:00:00.000Z` }, source: { srtSha256: 'x' }, entries } as EntryFile;
      episodes.push({ key: `show/${fileKey}`, sha256: String(n), load: async () => file });
    }
    await buildFullIndex(fts, episodes);
    const info = await buildWebIndex(fts, dir, { rankCap: settings.rankCap });
    webFile = path.join(dir, info.file);
    // A copy with FTS5 over the same rows: the reference.
    copyFileSync(webFile, path.join(dir, 'ref.sqlite'));
    ref = new Database(path.join(dir, 'ref.sqlite'));
    ref.exec(`CREATE VIRTUAL TABLE ref USING fts5(text, content='entries', content_rowid='rowid', tokenize='unicode61 remove_diacritics 2'); INSERT INTO ref(ref) VALUES ('rebuild');`);
    const f = fileReadAt(webFile);
    close = f.close;
    index = await WebIndex.open(f.readAt, f.bytes);
  });
  afterAll(() => {
    close?.();
    ref?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads every row of every table as SQLite does, overflowing entries included', async () => {
    const file = index.file;
    const entries = await file.tableRange(await file.root('entries'), -Infinity, Infinity);
    const expected = ref.prepare('SELECT rowid, episode, start_ms, end_ms, tokens, text FROM entries ORDER BY rowid').raw().all() as unknown[][];
    expect(entries.map(([id, r]) => [id, ...r.slice(1)])).toEqual(expected);
    expect(expected.some((r) => String(r[5]).length > 4096)).toBe(true);
    const terms = await file.indexRange(await file.root('terms'), '', '\u{10FFFF}');
    const expectedTerms = ref.prepare('SELECT term, docs, postings, first_part, parts, part_docs FROM terms ORDER BY term').raw().all() as unknown[][];
    expect(terms.map((r) => r.map((v) => (v instanceof Uint8Array ? Buffer.from(v) : v)))).toEqual(expectedTerms);
    const hits = await file.indexRange(await file.root('hits'), '', '\u{10FFFF}');
    expect(hits).toEqual(ref.prepare('SELECT term, rank, entry, episode, start_ms, end_ms, text FROM hits ORDER BY term, rank').raw().all());
    // The trees have interior levels (so the descent by level is exercised).
    const depth = async (root: number) => {
      let d = 1;
      for (let p = await file.page(root); p[0] === 2 || p[0] === 5; d++) p = await file.page(new DataView(p.buffer, p.byteOffset).getUint32(8));
      return d;
    };
    expect(await depth(await file.root('terms'))).toBeGreaterThanOrEqual(2);
    expect(await depth(await file.root('entries'))).toBeGreaterThanOrEqual(2);
    expect((ref.prepare('SELECT max(parts) FROM terms').pluck().get() as number) > 3).toBe(true);
  });

  // Queries of every kind: common and rare words, phrases, prefixes, several words, OR, diacritics, nothing.
  const common = VOCAB.slice(0, 6);
  const rare = VOCAB.slice(300, 306);
  const queries = [
    ...common,
    ...rare,
    VOCAB.find((w) => w.endsWith('é'))!.replace('é', 'E'),
    `"${common[0]} ${common[1]}"`,
    `"${common[2]} ${common[0]}"`,
    `"${common[1]} ${VOCAB[20]}"`,
    `${common[0]} ${VOCAB[40]}`,
    `${VOCAB[30]} ${VOCAB[31]}`,
    `${VOCAB[50]} OR ${VOCAB[51]}`,
    `${common[3]} ${VOCAB[60]} OR ${VOCAB[61]}`,
    `${VOCAB[100].slice(0, 2)}*`,
    `${VOCAB[3]}*`,
    `"${common[0]} ${VOCAB[8].slice(0, 1)}"*`,
    'lighthouse',
    'lighthouse OR zzzzq',
    'zzzzq',
  ];

  // Each query twice: long postings read whole, and read only where a rarer word is (any list of two parts or more).
  it.each(queries.flatMap((q) => [[q, 'whole'], [q, 'narrowed']]))('%s (%s): the same matches as FTS5, ranked as FTS5 ranks them', async (q, how) => {
    const match = toFtsQuery(q);
    const all = ref.prepare('SELECT rowid, bm25(ref) AS score FROM ref WHERE ref MATCH ? ORDER BY rank, rowid').all(match) as Array<{ rowid: number; score: number }>;
    const f = fileReadAt(webFile);
    const fresh = await WebIndex.open(f.readAt, f.bytes);
    const r = await searchWebIndex(fresh, q, { ...settings, longParts: how === 'whole' ? Infinity : 1 }).finally(f.close);
    expect(r.matches).toBe(all.length);
    const got = r.hits.map((h) => ref.prepare('SELECT rowid FROM entries WHERE episode = ? AND start_ms = ?').pluck().get(h.episode.n, h.startMs) as number);
    const single = !/[" *]|OR/.test(q.trim());
    if (r.order === 'newest') {
      expect(all.length).toBeGreaterThan(settings.rankCap);
      expect(single).toBe(false);
      expect(got).toEqual(all.map((a) => a.rowid).sort((a, b) => a - b).slice(0, settings.limit));
    } else {
      // BM25 order; scores equal to FTS5's (so ties fall to rowid alike).
      expect(got).toEqual(all.slice(0, settings.limit).map((a) => a.rowid));
    }
  });

  it('a phrase of a common and a rare word reads the common word only where the rare one is', async () => {
    const rareWord = VOCAB.slice(200, 400).find((w) => (ref.prepare('SELECT docs FROM terms WHERE term = ?').pluck().get(w) as number) >= 2)!;
    const q = `"${common[0]} ${rareWord}" OR ${common[1]} ${rareWord}`;
    const bytes = async (longParts: number) => {
      const f = fileReadAt(webFile);
      const fresh = await WebIndex.open(f.readAt, f.bytes);
      const before = fresh.file.stats.bytes;
      const r = await searchWebIndex(fresh, q, { ...settings, longParts });
      f.close();
      return { r, bytes: fresh.file.stats.bytes - before };
    };
    const whole = await bytes(Infinity);
    const narrowed = await bytes(1);
    expect(narrowed.r).toEqual(whole.r);
    expect(narrowed.bytes).toBeLessThan(whole.bytes * 0.8);
  });

  it('a one-word query reads one path of the terms tree and its hits: a few rounds of parallel requests', async () => {
    const f = fileReadAt(webFile);
    let inFlight = 0;
    let rounds = 0;
    const readAt: ReadAt = async (o, n) => {
      if (inFlight++ === 0) rounds++;
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      return f.readAt(o, n);
    };
    const fresh = await WebIndex.open(readAt, f.bytes);
    const before = { ...fresh.file.stats };
    rounds = 0;
    const r = await searchWebIndex(fresh, VOCAB[0], settings);
    expect(r.hits).toHaveLength(20);
    // Terms (≤ 3 levels), entries (≤ 3), episodes (≤ 2): each level one round, whatever the number of hits.
    expect(rounds).toBeLessThanOrEqual(8);
    expect(fresh.file.stats.requests - before.requests).toBeGreaterThan(rounds);
    f.close();
  });

  it('a moment: the entry said at that second, from the episode\'s own entries', async () => {
    const m = await findMoment(index, 'guid-4', 12.5);
    const expected = ref.prepare(`SELECT text FROM entries WHERE episode = (SELECT n FROM episodes WHERE id = 'guid-4') AND start_ms <= 12500 ORDER BY start_ms DESC LIMIT 1`).pluck().get();
    expect(m?.text).toBe(expected);
    expect(m?.episode).toMatchObject({ id: 'guid-4', title: 'Episode 4' });
  });

  it('a damaged or foreign file: a clear error, never a hang', async () => {
    const bytes = readFileSync(webFile);
    const open = (b: Buffer) => WebIndex.open(async (o, n) => new Uint8Array(b.subarray(o, o + n)), b.length);
    await expect(open(Buffer.from('<html>not found</html>'.padEnd(5000)))).rejects.toThrow(/not a SQLite database/);
    // Every b-tree page of the entries tree points at itself: the depth limit ends it.
    const loop = Buffer.from(bytes);
    const rootPage = await index.file.root('entries');
    const at = (rootPage - 1) * index.file.pageSize;
    if (loop[at] === 5) loop.writeUInt32BE(rootPage, at + 8);
    const looped = await open(loop);
    await expect(looped.file.tableRange(rootPage, -Infinity, Infinity)).rejects.toThrow(CorruptIndexError);
    // A page that is not a b-tree page, and a file cut short.
    const garbled = Buffer.from(bytes);
    garbled[((await index.file.root('hits')) - 1) * index.file.pageSize] = 0x63;
    await expect(searchWebIndex(await open(garbled), VOCAB[0], settings)).rejects.toThrow(/damaged .*not a b-tree page/);
    const cut = bytes.subarray(0, Math.floor(bytes.length / 2));
    const short = await open(cut);
    await expect(Promise.all(VOCAB.slice(0, 50).map((w) => searchWebIndex(short, w, settings)))).rejects.toThrow(CorruptIndexError);
    // A web index of another format is refused by name.
    const other = path.join(dir, 'other.sqlite');
    const db = new Database(other);
    db.exec(`CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID; INSERT INTO meta VALUES ('format', '1');`);
    db.close();
    const o = readFileSync(other);
    await expect(open(o)).rejects.toThrow(/format 1, this page reads format 3/);
    writeFileSync(other, '');
  });

  it('over HTTP: range requests from the static server, the same results; a server without ranges is named', async () => {
    const root = path.join(dir, 'served');
    mkdirSync(path.join(root, 'web'), { recursive: true });
    copyFileSync(webFile, path.join(root, 'web', 'index.sqlite'));
    const ranges: string[] = [];
    const srv = await startStaticServer({ root, onRequest: (r) => void ranges.push(r.range ?? '') });
    try {
      const remote = await WebIndex.open(httpReadAt(`${srv.url}web/index.sqlite`), readFileSync(webFile).length, { firstRead: 8192 });
      for (const q of [VOCAB[2], `"${common[0]} ${common[1]}"`, `${VOCAB[3]}*`]) expect(await searchWebIndex(remote, q, settings)).toEqual(await searchWebIndex(index, q, settings));
      expect(ranges.length).toBeGreaterThan(3);
      expect(ranges.every((r) => /^bytes=\d+-\d+$/.test(r))).toBe(true);
    } finally {
      await srv.close();
    }
    const plain = createServer((_req, res) => res.end(readFileSync(webFile)));
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
    try {
      const { port } = plain.address() as { port: number };
      await expect(WebIndex.open(httpReadAt(`http://127.0.0.1:${port}/index.sqlite`), 1000)).rejects.toThrow(/must support HTTP range requests/);
    } finally {
      plain.close();
    }
    // A server that answers every range with the file's start: refused, not read as the pages asked for.
    const whole = readFileSync(webFile);
    const wrong = createServer((_req, res) => {
      res.writeHead(206, { 'Content-Range': `bytes 0-4095/${whole.length}` });
      res.end(whole.subarray(0, 4096));
    });
    await new Promise<void>((r) => wrong.listen(0, '127.0.0.1', r));
    try {
      const { port } = wrong.address() as { port: number };
      const opened = await WebIndex.open(httpReadAt(`http://127.0.0.1:${port}/index.sqlite`), whole.length, { firstRead: 8192 }).catch((e: Error) => e);
      expect(String(opened)).toMatch(/another part of the search index than asked for \(bytes 0-4095\//);
    } finally {
      wrong.close();
    }
  });

  it('reads pages asked for together in one request when they are adjacent', async () => {
    const f = fileReadAt(webFile);
    const file = await SqliteFile.open(f.readAt, f.bytes, { firstRead: 100 });
    const pages = await Promise.all([3, 4, 5, 9].map((n) => file.page(n)));
    expect(pages.map((p) => p.length)).toEqual([4096, 4096, 4096, 4096]);
    // The header; 3–5 together; 9 alone (more than two pages away).
    expect(file.stats.requests).toBe(3);
    expect(Buffer.from(pages[1]).equals(readFileSync(webFile).subarray(3 * 4096, 4 * 4096))).toBe(true);
    // A bounded cache: the least recently used pages go, and come back when asked for again.
    const small = await SqliteFile.open(f.readAt, f.bytes, { maxCachedPages: 16 });
    await Promise.all(Array.from({ length: 40 }, (_, i) => small.page(i + 1)));
    expect(small.cachedPages).toBe(16);
    const requests = small.stats.requests;
    expect(Buffer.from(await small.page(2)).equals(readFileSync(webFile).subarray(4096, 8192))).toBe(true);
    expect(small.stats.requests).toBe(requests + 1);
    f.close();
  });
});
