import { createReadStream, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { refuseSymlinkBelow, SITE_FOLDERS } from '@podline/config';
import { streamToFileAtomic } from './atomic-stream';
import type { HashCache } from './hash-cache';
import { notOwnTempError, tempTooLargeError } from './errors';
import { isOwnTempKey, keyPath, QUEUE_RESULTS_FOLDER } from './keys';
import type { Listing, ObjectEntry, OnBytes, StorageBackend } from './types';
import { removeStaleTemps, walkFolders, type OnSymlink } from './walk';

/**
 * A plain folder acting as the bucket (the embedded default). Same key layout as S3; copies are streamed
 * to temp files and renamed, and keep the source's mtime. ETags are the files' MD5s (from `hashes`).
 */
export class LocalFolderBackend implements StorageBackend {
  readonly description: string;
  readonly id: string;
  requests = 0;

  constructor(
    readonly root: string,
    private readonly hashes: HashCache,
    /** Symbolic links met in the bucket folder: reported, never followed. */
    private readonly onSymlink?: OnSymlink,
  ) {
    this.description = `local folder ${root}`;
    this.id = `local:${root}`;
  }

  async list(options: { etags?: boolean } = {}): Promise<Listing> {
    this.requests++;
    const listing = await walkFolders(this.root, SITE_FOLDERS, this.onSymlink);
    if (options.etags === false) return listing;
    for (const entry of listing.values()) entry.etag = await this.hashes.md5(entry, keyPath(this.root, entry.key));
    return listing;
  }

  async download(entry: ObjectEntry, file: string, onBytes?: OnBytes): Promise<ObjectEntry> {
    this.requests++;
    const source = keyPath(this.root, entry.key);
    await refuseSymlinkBelow(this.root, source);
    const { size, md5 } = await streamToFileAtomic(createReadStream(source), file, {
      expectedSize: entry.size,
      expectedMd5: entry.etag,
      mtimeMs: entry.mtimeMs,
      onBytes,
      label: entry.key,
    });
    return { key: entry.key, size, mtimeMs: entry.mtimeMs, etag: md5 };
  }

  async upload(local: ObjectEntry, file: string, onBytes?: OnBytes): Promise<ObjectEntry> {
    this.requests++;
    const target = keyPath(this.root, local.key);
    await refuseSymlinkBelow(this.root, target);
    const { size, md5 } = await streamToFileAtomic(createReadStream(file), target, {
      expectedSize: local.size,
      mtimeMs: local.mtimeMs,
      onBytes,
      label: local.key,
    });
    const entry = { key: local.key, size, mtimeMs: local.mtimeMs, etag: md5 };
    this.hashes.remember(entry, md5);
    return entry;
  }

  async listTemps(): Promise<ObjectEntry[]> {
    this.requests++;
    const out: ObjectEntry[] = [];
    const walk = async (rel: string) => {
      const entries = await fsp.readdir(keyPath(this.root, rel), { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return [];
        throw err;
      });
      for (const e of entries) {
        const key = `${rel}/${e.name}`;
        // Links are never followed; temp files of writers are not objects yet.
        if (e.isDirectory()) await walk(key);
        else if (e.isFile() && isOwnTempKey(key) && !e.name.startsWith('.')) {
          const stat = await fsp.stat(keyPath(this.root, key)).catch(() => undefined);
          if (stat) out.push({ key, size: stat.size, mtimeMs: stat.mtimeMs });
        }
      }
    };
    await walk(QUEUE_RESULTS_FOLDER);
    return out;
  }

  async readTemp(key: string, maxBytes: number): Promise<Buffer> {
    if (!isOwnTempKey(key)) throw notOwnTempError(key, this.description, 'read');
    this.requests++;
    const file = keyPath(this.root, key);
    await refuseSymlinkBelow(this.root, file);
    const fh = await fsp.open(file, 'r');
    try {
      const { size } = await fh.stat();
      if (size > maxBytes) throw tempTooLargeError(key, this.description, maxBytes, size);
      return await fh.readFile();
    } finally {
      await fh.close();
    }
  }

  async removeTemp(key: string): Promise<void> {
    if (!isOwnTempKey(key)) throw notOwnTempError(key, this.description, 'delete');
    await this.remove(key);
    const file = keyPath(this.root, key);
    // Empty folders it leaves (up to the temp folder itself) go too; one still in use stays.
    for (let dir = path.dirname(file); dir.startsWith(keyPath(this.root, QUEUE_RESULTS_FOLDER)); dir = path.dirname(dir)) {
      if (!(await fsp.rmdir(dir).then(() => true, () => false))) break;
    }
  }

  async remove(key: string): Promise<void> {
    this.requests++;
    const target = keyPath(this.root, key);
    await refuseSymlinkBelow(this.root, target);
    await fsp.rm(target, { force: true });
  }

  /** Temp files of killed uploads into this folder (as in the data folder): removed when their writer is gone. */
  removeStaleTemps(): Promise<number> {
    return removeStaleTemps(this.root, SITE_FOLDERS);
  }

  flush(): Promise<void> {
    return this.hashes.save();
  }

  close(): void {
    /* nothing held */
  }
}
