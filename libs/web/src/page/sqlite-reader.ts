/**
 * A read-only reader of the SQLite file format (https://www.sqlite.org/fileformat2.html) over an async
 * "read these bytes" function: HTTP range requests in the browser, a file in Node. No wasm: the page reads
 * the b-trees of the web index itself, and so it can ask for the pages of one b-tree level all at once
 * (a SQLite library in wasm reads one page at a time, synchronously, one round trip after the other).
 *
 * Only what the web index uses: UTF-8 databases, rowid tables looked up by rowid or rowid range, and
 * index b-trees (indexes, WITHOUT ROWID tables) scanned by the text of their first column. The file is
 * not trusted: page numbers, offsets, lengths and depths are checked, and a malformed file gives a
 * `CorruptIndexError`, never a hang or an endless loop.
 */

/** Reads `length` bytes at `offset` (fewer only at the end of the file). */
export type ReadAt = (offset: number, length: number) => Promise<Uint8Array>;

export class CorruptIndexError extends Error {
  constructor(what: string) {
    super(`the search index file is damaged (${what}); publish it again with the site's index target`);
    this.name = 'CorruptIndexError';
  }
}

export type SqlValue = null | number | string | Uint8Array;
export type Row = SqlValue[];

const MAX_DEPTH = 20;
const utf8 = new TextDecoder('utf-8');
const utf8Encode = new TextEncoder();

export interface SqliteFileOptions {
  /** Pages further apart than this are read by separate requests; closer ones by one request (default 2). */
  maxGapPages?: number;
  /** Pages kept in memory, the least recently used dropped first (default 8,192: 32 MB of 4 KiB pages). */
  maxCachedPages?: number;
}

/** Statistics of the reads so far (tests, the benchmark, the page's own report). */
export interface ReadStats {
  requests: number;
  bytes: number;
}

interface PageWaiter {
  resolve: (p: Uint8Array) => void;
  reject: (e: unknown) => void;
}

/** A SQLite varint (big-endian groups of 7 bits, the ninth byte whole) at `at`: its value and the offset after it. */
export function readVarint(buf: Uint8Array, at: number): [value: number, next: number] {
  let v = 0;
  for (let i = 0; i < 8; i++) {
    if (at + i >= buf.length) throw new CorruptIndexError('a varint runs past its page');
    const b = buf[at + i];
    v = v * 128 + (b & 0x7f);
    if (b < 0x80) return [v, at + i + 1];
  }
  if (at + 8 >= buf.length) throw new CorruptIndexError('a varint runs past its page');
  return [v * 256 + buf[at + 8], at + 9];
}

/** Decode a record (https://www.sqlite.org/fileformat2.html#record_format). */
export function decodeRecord(payload: Uint8Array): Row {
  const [headerSize, first] = readVarint(payload, 0);
  if (headerSize > payload.length) throw new CorruptIndexError('a record header is longer than its record');
  const types: number[] = [];
  for (let at = first; at < headerSize; ) {
    const [t, next] = readVarint(payload, at);
    types.push(t);
    at = next;
  }
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const row: Row = [];
  let at = headerSize;
  const need = (n: number) => {
    if (at + n > payload.length) throw new CorruptIndexError('a record value runs past its record');
  };
  for (const t of types) {
    if (t === 0) row.push(null);
    else if (t >= 1 && t <= 6) {
      const n = [0, 1, 2, 3, 4, 6, 8][t];
      need(n);
      // Big-endian two's complement of n bytes (exact up to 2^53, which the web index never exceeds).
      let u = 0;
      for (let i = 0; i < n; i++) u = u * 256 + payload[at + i];
      row.push(payload[at] & 0x80 ? u - 2 ** (8 * n) : u);
      at += n;
    } else if (t === 7) {
      need(8);
      row.push(view.getFloat64(at));
      at += 8;
    } else if (t === 8) row.push(0);
    else if (t === 9) row.push(1);
    else if (t >= 12) {
      const n = (t - 12) >> 1;
      need(n);
      const bytes = payload.subarray(at, at + n);
      row.push(t % 2 === 0 ? bytes : utf8.decode(bytes));
      at += n;
    } else throw new CorruptIndexError(`unknown serial type ${t}`);
  }
  return row;
}

/** Compare byte strings as SQLite's BINARY collation compares UTF-8 text. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/**
 * The UTF-8 bytes of the first column of an index record, when it is text (else undefined); null when the
 * record given is only the start of one (its page's part) and the key runs past it.
 */
function firstTextBytes(payload: Uint8Array, partial = false): Uint8Array | undefined | null {
  const [headerSize, first] = readVarint(payload, 0);
  if (partial && headerSize > payload.length) return null;
  const [t] = readVarint(payload, first);
  if (t < 13 || t % 2 === 0) return undefined;
  const n = (t - 13) >> 1;
  if (headerSize + n > payload.length) {
    if (partial) return null;
    throw new CorruptIndexError('a key runs past its record');
  }
  return payload.subarray(headerSize, headerSize + n);
}

interface Cell {
  /** Left child (interior pages). */
  child?: number;
  /** Rowid (table b-trees). */
  rowid?: number;
  /** The part of the payload on this page (all of it when it does not overflow). */
  local?: Uint8Array;
  /** The whole payload (leaf cells of tables, every cell of index b-trees): overflow pages read when asked. */
  payload?: () => Promise<Uint8Array>;
}

/** The text key of an index cell: from its page when it is there, else from the whole payload. */
async function keyOf(c: Cell): Promise<Uint8Array | undefined> {
  const quick = firstTextBytes(c.local!, true);
  if (quick !== null) return quick;
  return firstTextBytes(await c.payload!()) ?? undefined;
}

interface BtreePage {
  kind: 'table-leaf' | 'table-interior' | 'index-leaf' | 'index-interior';
  cells: Cell[];
  rightChild?: number;
}

export class SqliteFile {
  readonly pageSize: number;
  readonly usable: number;
  readonly pageCount: number;
  private readonly cache = new Map<number, Promise<Uint8Array>>();
  private pending = new Map<number, PageWaiter[]>();
  private flushScheduled = false;
  private readonly maxGap: number;
  private readonly maxCached: number;
  readonly stats: ReadStats = { requests: 0, bytes: 0 };
  private schemaRows?: Promise<Map<string, { type: string; rootpage: number; sql: string | null }>>;

  private constructor(
    private readonly readAt: ReadAt,
    header: Uint8Array,
    fileBytes: number,
    options: SqliteFileOptions,
  ) {
    const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
    const raw = view.getUint16(16);
    this.pageSize = raw === 1 ? 65536 : raw;
    if (this.pageSize < 512 || this.pageSize > 65536 || (this.pageSize & (this.pageSize - 1)) !== 0) throw new CorruptIndexError(`page size ${raw}`);
    this.usable = this.pageSize - header[20];
    if (view.getUint32(56) !== 1) throw new CorruptIndexError('the text encoding is not UTF-8');
    this.pageCount = Math.floor(fileBytes / this.pageSize);
    this.maxGap = options.maxGapPages ?? 2;
    this.maxCached = Math.max(16, options.maxCachedPages ?? 8192);
  }

  /**
   * Open a database file of `fileBytes` bytes. `firstRead` bytes are read first (at least the header; a
   * whole first page and more saves round trips: give the page size when it is known).
   */
  static async open(readAt: ReadAt, fileBytes: number, options: SqliteFileOptions & { firstRead?: number } = {}): Promise<SqliteFile> {
    // At least the header, at most 1 MiB (the size comes from site.json).
    const first = await readAt(0, Math.min(1 << 20, Math.max(100, options.firstRead ?? 4096)));
    if (first.length < 100 || utf8.decode(first.subarray(0, 15)) !== 'SQLite format 3') throw new CorruptIndexError('not a SQLite database');
    const file = new SqliteFile(readAt, first, fileBytes, options);
    file.stats.requests = 1;
    file.stats.bytes = first.length;
    // The whole pages read are kept.
    for (let p = 1; p * file.pageSize <= first.length; p++) file.cache.set(p, Promise.resolve(first.subarray((p - 1) * file.pageSize, p * file.pageSize)));
    return file;
  }

  /** Pages in memory now. */
  get cachedPages(): number {
    return this.cache.size;
  }

  /** Page `n` (1-based). Requests made in the same turn of the event loop are read together. */
  page(n: number): Promise<Uint8Array> {
    if (!Number.isInteger(n) || n < 1 || n > this.pageCount) return Promise.reject(new CorruptIndexError(`page ${n} is outside the file (${this.pageCount} pages)`));
    let p = this.cache.get(n);
    if (p) {
      // Most recently used last.
      this.cache.delete(n);
      this.cache.set(n, p);
      return p;
    }
    p = new Promise<Uint8Array>((resolve, reject) => {
      const waiters = this.pending.get(n) ?? [];
      waiters.push({ resolve, reject });
      this.pending.set(n, waiters);
    });
    this.cache.set(n, p);
    p.catch(() => this.cache.delete(n));
    // A long session stays bounded: the least recently used pages go (read again if needed).
    for (const old of this.cache.keys()) {
      if (this.cache.size <= this.maxCached) break;
      this.cache.delete(old);
    }
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setTimeout(() => this.flush(), 0);
    }
    return p;
  }

  /** Read the pages asked for: adjacent (or nearly) ones in one request, the runs in parallel. */
  private flush(): void {
    this.flushScheduled = false;
    const wanted = [...this.pending.keys()].sort((a, b) => a - b);
    const waiters = this.pending;
    this.pending = new Map();
    const runs: number[][] = [];
    for (const n of wanted) {
      const run = runs[runs.length - 1];
      if (run && n - run[run.length - 1] <= this.maxGap + 1) run.push(n);
      else runs.push([n]);
    }
    for (const run of runs) {
      const from = run[0];
      const to = run[run.length - 1];
      this.stats.requests++;
      this.readAt((from - 1) * this.pageSize, (to - from + 1) * this.pageSize).then(
        (bytes) => {
          this.stats.bytes += bytes.length;
          for (const n of run) {
            const at = (n - from) * this.pageSize;
            const page = bytes.subarray(at, at + this.pageSize);
            for (const w of waiters.get(n)!) {
              if (page.length === this.pageSize) w.resolve(page);
              else w.reject(new CorruptIndexError(`page ${n} is cut short`));
            }
          }
        },
        (err) => {
          for (const n of run) for (const w of waiters.get(n)!) w.reject(err);
        },
      );
    }
  }

  private async parse(n: number): Promise<BtreePage> {
    const buf = await this.page(n);
    const base = n === 1 ? 100 : 0;
    const type = buf[base];
    const kind = type === 13 ? 'table-leaf' : type === 5 ? 'table-interior' : type === 10 ? 'index-leaf' : type === 2 ? 'index-interior' : undefined;
    if (!kind) throw new CorruptIndexError(`page ${n} is not a b-tree page (type ${type})`);
    const interior = type === 2 || type === 5;
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const count = view.getUint16(base + 3);
    const pointers = base + (interior ? 12 : 8);
    if (pointers + 2 * count > this.usable) throw new CorruptIndexError(`page ${n} has more cells than fit`);
    const cells: Cell[] = [];
    const index = type === 2 || type === 10;
    for (let i = 0; i < count; i++) {
      let at = view.getUint16(pointers + 2 * i);
      if (at < pointers + 2 * count || at >= this.usable) throw new CorruptIndexError(`a cell of page ${n} is outside it`);
      const cell: Cell = {};
      if (interior) {
        cell.child = view.getUint32(at);
        at += 4;
      }
      if (type === 5) {
        [cell.rowid] = readVarint(buf, at);
      } else {
        let size: number;
        [size, at] = readVarint(buf, at);
        if (type === 13) [cell.rowid, at] = readVarint(buf, at);
        const { local, rest } = this.localPart(buf, at, size, index, n);
        cell.local = local;
        let whole: Promise<Uint8Array> | undefined;
        cell.payload = rest ? () => (whole ??= this.overflow(local, size, rest)) : () => Promise.resolve(local);
      }
      cells.push(cell);
    }
    return { kind, cells, rightChild: interior ? view.getUint32(base + 8) : undefined };
  }

  /** The part of a cell's payload on its page, and the first overflow page when there is more. */
  private localPart(buf: Uint8Array, at: number, size: number, index: boolean, n: number): { local: Uint8Array; rest?: number } {
    const u = this.usable;
    // No payload is larger than the file that holds it (a damaged size would allocate without bound).
    if (size > this.pageCount * u) throw new CorruptIndexError(`a cell of page ${n} claims ${size} bytes`);
    const x = index ? Math.floor(((u - 12) * 64) / 255) - 23 : u - 35;
    if (size <= x) {
      if (at + size > u) throw new CorruptIndexError(`a cell of page ${n} runs past it`);
      return { local: buf.subarray(at, at + size) };
    }
    const m = Math.floor(((u - 12) * 32) / 255) - 23;
    const k = m + ((size - m) % (u - 4));
    const local = k <= x ? k : m;
    if (at + local + 4 > u) throw new CorruptIndexError(`a cell of page ${n} runs past it`);
    return { local: buf.subarray(at, at + local), rest: new DataView(buf.buffer, buf.byteOffset).getUint32(at + local) };
  }

  /** A payload whose rest is in a chain of overflow pages from page `next`. */
  private async overflow(local: Uint8Array, size: number, next: number): Promise<Uint8Array> {
    const u = this.usable;
    const out = new Uint8Array(size);
    out.set(local);
    let filled = local.length;
    for (let hops = 0; filled < size; hops++) {
      if (hops > this.pageCount) throw new CorruptIndexError('an overflow chain loops');
      const page = await this.page(next);
      const take = Math.min(u - 4, size - filled);
      out.set(page.subarray(4, 4 + take), filled);
      filled += take;
      next = new DataView(page.buffer, page.byteOffset).getUint32(0);
    }
    return out;
  }

  /** `sqlite_schema`: type, root page and SQL of every table and index, by name. */
  schema(): Promise<Map<string, { type: string; rootpage: number; sql: string | null }>> {
    this.schemaRows ??= this.tableRange(1, -Infinity, Infinity).then(
      (rows) => new Map(rows.map(([, r]) => [String(r[1]), { type: String(r[0]), rootpage: Number(r[3]), sql: r[4] === null ? null : String(r[4]) }])),
    );
    return this.schemaRows;
  }

  /** Root page of a table or index, by name. */
  async root(name: string): Promise<number> {
    const entry = (await this.schema()).get(name);
    if (!entry) throw new CorruptIndexError(`it has no ${name}`);
    return entry.rootpage;
  }

  /** Rows of a rowid table whose rowid is in `rowids`, by rowid. One round trip per level of the b-tree. */
  async tableRows(root: number, rowids: number[]): Promise<Map<number, Row>> {
    const want = [...new Set(rowids)].sort((a, b) => a - b);
    const out = new Map<number, Row>();
    const visit = async (page: number, ids: number[], depth: number): Promise<void> => {
      if (depth > MAX_DEPTH) throw new CorruptIndexError('a b-tree is too deep');
      const p = await this.parse(page);
      if (p.kind === 'table-leaf') {
        const wanted = new Set(ids);
        await Promise.all(p.cells.filter((c) => wanted.has(c.rowid!)).map(async (c) => out.set(c.rowid!, decodeRecord(await c.payload!()))));
        return;
      }
      if (p.kind !== 'table-interior') throw new CorruptIndexError(`page ${page} is not a table page`);
      const byChild = new Map<number, number[]>();
      let i = 0;
      for (const id of ids) {
        while (i < p.cells.length && p.cells[i].rowid! < id) i++;
        const child = i < p.cells.length ? p.cells[i].child! : p.rightChild!;
        const list = byChild.get(child);
        if (list) list.push(id);
        else byChild.set(child, [id]);
      }
      await Promise.all([...byChild].map(([child, sub]) => visit(child, sub, depth + 1)));
    };
    if (want.length) await visit(root, want, 0);
    return out;
  }

  /** Rows of a rowid table with `from` ≤ rowid ≤ `to`, in rowid order. */
  async tableRange(root: number, from: number, to: number): Promise<Array<[number, Row]>> {
    const visit = async (page: number, depth: number): Promise<Array<[number, Row]>> => {
      if (depth > MAX_DEPTH) throw new CorruptIndexError('a b-tree is too deep');
      const p = await this.parse(page);
      if (p.kind === 'table-leaf') {
        const cells = p.cells.filter((c) => c.rowid! >= from && c.rowid! <= to);
        return Promise.all(cells.map(async (c): Promise<[number, Row]> => [c.rowid!, decodeRecord(await c.payload!())]));
      }
      if (p.kind !== 'table-interior') throw new CorruptIndexError(`page ${page} is not a table page`);
      const children: number[] = [];
      let low = -Infinity;
      for (const c of p.cells) {
        // The left child holds rowids in (low, c.rowid].
        if (c.rowid! >= from && low < to) children.push(c.child!);
        low = c.rowid!;
      }
      if (low < to) children.push(p.rightChild!);
      return (await Promise.all(children.map((c) => visit(c, depth + 1)))).flat();
    };
    return visit(root, 0);
  }

  /**
   * Records of an index b-tree (an index or a WITHOUT ROWID table) whose first column is text in
   * [`from`, `to`) (`to` undefined: equal to `from`), in key order. One round trip per level.
   */
  async indexRange(root: number, from: string, to?: string): Promise<Row[]> {
    const lo = utf8Encode.encode(from);
    const hi = to === undefined ? undefined : utf8Encode.encode(to);
    const below = (k: Uint8Array) => (hi ? compareBytes(k, hi) < 0 : compareBytes(k, lo) <= 0);
    const inRange = (k: Uint8Array | undefined) => !!k && compareBytes(k, lo) >= 0 && below(k);
    const visit = async (page: number, depth: number): Promise<Row[]> => {
      if (depth > MAX_DEPTH) throw new CorruptIndexError('a b-tree is too deep');
      const p = await this.parse(page);
      if (p.kind === 'index-leaf') {
        const rows: Array<Promise<Row>> = [];
        for (const c of p.cells) if (inRange(await keyOf(c))) rows.push(c.payload!().then(decodeRecord));
        return Promise.all(rows);
      }
      if (p.kind !== 'index-interior') throw new CorruptIndexError(`page ${page} is not an index page`);
      // In order: child 0, cell 0, child 1, cell 1, …, the right child. A child holds keys between its neighbours.
      const parts: Array<Promise<Row[]> | Row[]> = [];
      let lowKey: Uint8Array | undefined;
      for (const c of p.cells) {
        const key = await keyOf(c);
        if (!key) throw new CorruptIndexError(`page ${page} has a key that is not text`);
        if (compareBytes(key, lo) >= 0 && (!lowKey || below(lowKey))) parts.push(visit(c.child!, depth + 1));
        if (inRange(key)) parts.push(c.payload!().then((b) => [decodeRecord(b)]));
        lowKey = key;
      }
      if (!lowKey || below(lowKey)) parts.push(visit(p.rightChild!, depth + 1));
      return (await Promise.all(parts)).flat();
    };
    return visit(root, 0);
  }
}

/** A ReadAt over HTTP range requests (the browser's fetch). Refuses a server that ignores the range. */
export function httpReadAt(url: string, fetchImpl: typeof fetch = fetch): ReadAt {
  return async (offset, length) => {
    const res = await fetchImpl(url, { headers: { Range: `bytes=${offset}-${offset + length - 1}` } });
    if (res.status !== 206) {
      // Not the bytes asked for: do not download the rest.
      void res.body?.cancel().catch(() => undefined);
      if (res.status === 200) throw new Error(`the server sent the whole search index instead of a part: it must support HTTP range requests`);
      throw new Error(`reading the search index: HTTP ${res.status}`);
    }
    // Another part than the one asked for would be read as the wrong pages. (Content-Range is readable
    // cross-origin only where the host exposes it, as the project's hosting does; else the length is checked.)
    const range = res.headers.get('content-range');
    if (range && !range.startsWith(`bytes ${offset}-`)) throw new Error(`the server sent another part of the search index than asked for (${range})`);
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (bytes.length > length) throw new Error(`the server sent more of the search index than asked for (${bytes.length} bytes for ${length})`);
    return bytes;
  };
}
