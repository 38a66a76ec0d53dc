import { promises as fsp, type Stats } from 'node:fs';
import { writeJsonAtomic } from '@podline/config';

/**
 * Local-only memo of what an episode's files were when last checked (size, mtime, inode) and their hashes,
 * so an incremental run does not re-read and re-hash every unchanged SRT and entry file. A file whose stamp
 * differs in any way is read and hashed again; a missing or unreadable memo just means a full check.
 */
export interface FileStamp {
  size: number;
  mtimeMs: number;
  ino: number;
  sha256: string;
}

export interface EpisodeStamps {
  format: number;
  /** sha256 of the episode metadata the entry file carries. */
  meta: string;
  srt: FileStamp;
  entry: FileStamp;
}

export function stampOf(stat: Stats, sha256: string): FileStamp {
  return { size: stat.size, mtimeMs: stat.mtimeMs, ino: stat.ino, sha256 };
}

export function sameFile(stamp: FileStamp | undefined, stat: Stats | undefined): boolean {
  return !!stamp && !!stat && stamp.size === stat.size && stamp.mtimeMs === stat.mtimeMs && stamp.ino === stat.ino;
}

export class StampCache {
  private next: Record<string, EpisodeStamps> = {};
  private constructor(private readonly previous: Record<string, EpisodeStamps>) {}

  static async load(file: string): Promise<StampCache> {
    try {
      const data = JSON.parse(await fsp.readFile(file, 'utf8')) as { episodes?: Record<string, EpisodeStamps> };
      return new StampCache(data.episodes && typeof data.episodes === 'object' ? data.episodes : {});
    } catch {
      return new StampCache({});
    }
  }

  get(key: string): EpisodeStamps | undefined {
    return this.previous[key];
  }

  /** Record an episode for the next run; episodes not recorded this run are forgotten on save. */
  set(key: string, stamps: EpisodeStamps): void {
    this.next[key] = stamps;
  }

  async save(file: string): Promise<void> {
    await writeJsonAtomic(file, { version: 1, episodes: this.next });
  }
}
