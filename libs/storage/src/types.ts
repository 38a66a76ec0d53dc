import type { Log, SiteFolder } from '@podline/config';

/** One object on either side, by its site key ('/'-separated, identical locally and in the bucket). */
export interface ObjectEntry {
  key: string;
  size: number;
  /** Modification time (local mtime, or the bucket's LastModified), in ms. */
  mtimeMs: number;
  /** The bucket's ETag without quotes (a plain MD5 for single-part uploads), or the MD5 of a local file when known. */
  etag?: string;
}

/** Entries by key. */
export type Listing = Map<string, ObjectEntry>;

/** Byte progress of one transfer. */
export type OnBytes = (bytes: number) => void;

/** What a backend (the "bucket" side) can do. Only `remove` deletes (only `pruneSite` calls it), and `removeTemp` Podline's own temp objects. */
export interface StorageBackend {
  /** Human description for messages: "s3://bucket/prefix" or the folder. */
  readonly description: string;
  /** Stable identity of where the data goes (used to key the listing cache). */
  readonly id: string;
  /**
   * Every key of the site's synced folders, paging through the whole listing once. `etags: false`: the caller
   * needs keys and sizes only (a local folder then hashes nothing; S3 lists its ETags anyway).
   */
  list(options?: { etags?: boolean }): Promise<Listing>;
  /** Download `entry` to `file` (streamed to a temp file, verified, renamed); returns the local file's entry, its MD5 as etag. */
  download(entry: ObjectEntry, file: string, onBytes?: OnBytes): Promise<ObjectEntry>;
  /** Upload the local `file` as `local.key`; returns the bucket's entry for it. */
  upload(local: ObjectEntry, file: string, onBytes?: OnBytes): Promise<ObjectEntry>;
  /** Delete one key (absent already: no error). */
  remove(key: string): Promise<void>;
  /** Number of requests sent to the bucket so far (for reports and benchmarks). */
  readonly requests: number;
  /** Remove temp files left in the bucket by killed runs (a local folder; S3 has its lifecycle rule instead). */
  removeStaleTemps?(): Promise<number>;
  /** Podline's own temp objects (keys under `queue-results/`, outside the synced folders), without hashing. */
  listTemps?(): Promise<ObjectEntry[]>;
  /** One of Podline's own temp objects (`isOwnTempKey`) into memory; larger than `maxBytes`: an error, nothing read past it. */
  readTemp?(key: string, maxBytes: number): Promise<Buffer>;
  /** Remove one of Podline's own temp objects (`isOwnTempKey`); any other key is refused. Already gone: nothing to do. */
  removeTemp?(key: string): Promise<void>;
  /** Persist local bookkeeping (e.g. the local folder's hash cache). */
  flush?(): Promise<void>;
  close(): void;
}

/** What the sync engine logs to: config's one `Log`. */
export type SyncLog = Log;

export type { SiteFolder };
