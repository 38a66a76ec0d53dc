import { createReadStream, promises as fsp } from 'node:fs';
import { refuseSymlinkBelow, SITE_FOLDERS } from '@podline/config';
import { streamToFileAtomic } from './atomic-stream';
import type { HashCache } from './hash-cache';
import { keyPath } from './keys';
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

  async list(): Promise<Listing> {
    this.requests++;
    const listing = await walkFolders(this.root, SITE_FOLDERS, this.onSymlink);
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
