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

/** What a backend (the "bucket" side) can do. Only `remove` deletes, and only `pruneSite` calls it. */
export interface StorageBackend {
  /** Human description for messages: "s3://bucket/prefix" or the folder. */
  readonly description: string;
  /** Stable identity of where the data goes (used to key the listing cache). */
  readonly id: string;
  /** Every key of the site's synced folders, paging through the whole listing once. */
  list(): Promise<Listing>;
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
  /** Persist local bookkeeping (e.g. the local folder's hash cache). */
  flush?(): Promise<void>;
  close(): void;
}

/** What the sync engine logs to: config's one `Log`. */
export type SyncLog = Log;

export type { SiteFolder };
