import { createHash } from 'node:crypto';
import { createReadStream, promises as fsp, readFileSync } from 'node:fs';
import { writeJsonAtomic } from '@podline/config';
import type { ObjectEntry } from './types';

/** MD5 (hex) of a file, streamed. */
async function md5File(file: string): Promise<string> {
  const hash = createHash('md5');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

interface CachedHash {
  size: number;
  mtimeMs: number;
  md5: string;
}

/**
 * MD5s of local files, remembered by key with the size and mtime they were computed for, so a file is
 * hashed again only when it changed. Stored in the site's local-only cache folder.
 */
export class HashCache {
  private entries: Record<string, CachedHash> = {};
  private dirty = false;

  private constructor(private readonly file: string) {}

  static async open(file: string): Promise<HashCache> {
    const cache = new HashCache(file);
    try {
      cache.entries = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      /* missing or unreadable: start empty (it is only a cache) */
    }
    return cache;
  }

  /** The MD5 of `entry`'s file at `abs`, from the cache when size and mtime still match. */
  async md5(entry: ObjectEntry, abs: string): Promise<string> {
    const hit = this.entries[entry.key];
    if (hit && hit.size === entry.size && hit.mtimeMs === entry.mtimeMs) return hit.md5;
    const md5 = await md5File(abs);
    this.remember(entry, md5);
    return md5;
  }

  remember(entry: ObjectEntry, md5: string): void {
    this.entries[entry.key] = { size: entry.size, mtimeMs: entry.mtimeMs, md5 };
    this.dirty = true;
  }

  async save(): Promise<void> {
    if (this.dirty) await writeJsonAtomic(this.file, this.entries);
    this.dirty = false;
  }
}
