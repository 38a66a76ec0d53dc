import { existsSync, lstatSync, promises as fsp, readdirSync, type Dirent } from 'node:fs';
import * as path from 'node:path';
import type { SiteConfig } from './types';
import { PodlineError } from './errors';

/**
 * The one owner of every path Podline uses. Keys are '/'-separated and identical locally
 * (under the site's data folder) and in the bucket (under its prefix), so sync is key for key.
 */

/** The folders of a site, in the bucket's layout. */
export const SITE_FOLDERS = [
  'rss',
  'audio',
  'transcripts',
  'episode-manifest',
  'search-entries',
  'search-index',
  'web',
] as const;
export type SiteFolder = (typeof SITE_FOLDERS)[number];

export const MANIFEST_KEY = 'episode-manifest/full-episode-manifest.json';

/** Bucket/data keys of one episode's files. */
export const keys = {
  rss: (podcastId: string) => `rss/${podcastId}.xml`,
  /** Audio is `.mp3` whatever its container (players sniff it); a video episode keeps its own extension (`ext`). */
  audio: (podcastId: string, fileKey: string, ext = 'mp3') => `audio/${podcastId}/${fileKey}.${ext}`,
  transcript: (podcastId: string, fileKey: string) => `transcripts/${podcastId}/${fileKey}.srt`,
  searchEntries: (podcastId: string, fileKey: string) => `search-entries/${podcastId}/${fileKey}.json`,
  manifest: () => MANIFEST_KEY,
  searchIndex: (name = 'index.sqlite') => `search-index/${name}`,
};

/** Workspace root: the folder with nx.json. Executors pass Nx's; scripts may rely on this. */
export function findWorkspaceRoot(from = process.cwd()): string {
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'nx.json'))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(from);
  }
}

/** Root of all site data: $PODLINE_DATA_DIR (absolute, or relative to the workspace), default <workspace>/data. */
export function dataRoot(workspaceRoot: string, env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.PODLINE_DATA_DIR;
  return fromEnv ? path.resolve(workspaceRoot, fromEnv) : path.join(workspaceRoot, 'data');
}

/** Where ggml Whisper models live: $PODLINE_MODELS_DIR, default <workspace>/models. */
export function modelsDir(workspaceRoot: string, env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.PODLINE_MODELS_DIR;
  return fromEnv ? path.resolve(workspaceRoot, fromEnv) : path.join(workspaceRoot, 'models');
}

/** Where run reports are written: <data root>/.reports. */
export function reportsDir(workspaceRoot: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(dataRoot(workspaceRoot, env), '.reports');
}

/** Where the per-site lock files live: <data root>/.locks. */
export function locksDir(workspaceRoot: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(dataRoot(workspaceRoot, env), '.locks');
}

/** Per-site lock files (one run at a time per site): <data root>/.locks/<site>.lock. */
export function lockFile(workspaceRoot: string, siteId: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(locksDir(workspaceRoot, env), `${siteId}.lock`);
}

/**
 * The small deterministic state file a target writes and Nx caches (declared as the target's output).
 * Kept inside the workspace (Nx caches only workspace paths), outside the data root.
 */
export function stateFileRel(siteId: string, target: string): string {
  return `.podline/state/${siteId}/${target}.json`;
}
export function stateFile(workspaceRoot: string, siteId: string, target: string): string {
  return path.join(workspaceRoot, stateFileRel(siteId, target));
}

/** Paths of one site's working files. */
export class SitePaths {
  readonly root: string;
  constructor(
    readonly siteId: string,
    readonly workspaceRoot: string,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.root = path.join(dataRoot(workspaceRoot, env), siteId);
  }
  /** Absolute local path of a key (`a..b.mp3` is a normal name; a `..` or `.` part is refused). */
  file(key: string): string {
    if (unsafeKeyPart(key) || path.isAbsolute(key)) throw new Error(`refusing unsafe key "${key}"`);
    return path.join(this.root, ...key.split('/'));
  }
  folder(folder: SiteFolder): string {
    return path.join(this.root, folder);
  }
  get manifestFile(): string {
    return this.file(MANIFEST_KEY);
  }
  rssFile(podcastId: string): string {
    return this.file(keys.rss(podcastId));
  }
  /** Fetch metadata (ETag, Last-Modified) per feed; local only, never synced. */
  feedCacheFile(podcastId: string): string {
    return path.join(this.root, '.cache', 'feeds', `${podcastId}.json`);
  }
  audioFile(podcastId: string, fileKey: string, ext?: string): string {
    return this.file(keys.audio(podcastId, fileKey, ext));
  }
  transcriptFile(podcastId: string, fileKey: string): string {
    return this.file(keys.transcript(podcastId, fileKey));
  }
  searchEntriesFile(podcastId: string, fileKey: string): string {
    return this.file(keys.searchEntries(podcastId, fileKey));
  }
  searchIndexDir(): string {
    return this.folder('search-index');
  }
  /** Local-only bookkeeping (never synced): transcript sources, index state, listings. */
  cacheDir(): string {
    return path.join(this.root, '.cache');
  }
}

/** The folder acting as the bucket for a site with local storage (the embedded default). */
export function localBucketDir(site: Pick<SiteConfig, 'id' | 'storage'>, workspaceRoot: string, env: NodeJS.ProcessEnv = process.env): string {
  if (site.storage.kind === 'local' && site.storage.path) return path.resolve(workspaceRoot, site.storage.path);
  return path.join(dataRoot(workspaceRoot, env), '.bucket', site.id);
}

/** Why a '/'-separated key cannot name a file below a folder: an empty, `.` or `..` part, a NUL; undefined when it can. */
export function unsafeKeyPart(key: string): string | undefined {
  if (key.includes('\0')) return 'it contains a NUL character';
  const parts = key.split('/');
  if (parts.some((p) => p === '..' || p === '.')) return 'it has a "." or ".." part';
  if (parts.some((p) => p === '')) return 'it has an empty part (a leading, trailing or double "/")';
  return undefined;
}

/** Podline does not follow symbolic links inside data folders and local buckets, in either direction. */
export class SymlinkError extends PodlineError {
  constructor(readonly link: string) {
    super(`${link} is a symbolic link; Podline does not follow links inside data folders and buckets`, {
      file: link,
      fix: `replace ${link} with a real folder or file (or move the data: PODLINE_DATA_DIR, storage.path)`,
    });
  }
}

/**
 * The first symbolic link on the way from `root` (not itself checked: it is the operator's choice) down to
 * `target`, or undefined. The walk stops at the first part that does not exist yet.
 */
export async function symlinkBelow(root: string, target: string): Promise<string | undefined> {
  const rel = path.relative(root, target);
  if (!rel || rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
  let current = root;
  for (const part of rel.split(path.sep)) {
    current = path.join(current, part);
    let st;
    try {
      st = await fsp.lstat(current);
    } catch {
      return undefined;
    }
    if (st.isSymbolicLink()) return current;
  }
  return undefined;
}

/** Throw SymlinkError when a part of `target` below `root` is a symbolic link. */
export async function refuseSymlinkBelow(root: string, target: string): Promise<void> {
  const link = await symlinkBelow(root, target);
  if (link) throw new SymlinkError(link);
}

/**
 * Symbolic links among a site's data folders and their podcast folders (`<root>/<folder>`,
 * `<root>/<folder>/<podcast>`, `<root>/.cache`): where rss, transcribe and index write. Cheap: two levels only;
 * deeper links are met (and never followed) by the walks of the storage targets.
 */
export async function dataFolderSymlinks(root: string): Promise<string[]> {
  // Synchronous calls: a dozen tiny ones per site and phase, each cheaper than an asynchronous round trip.
  const found: string[] = [];
  for (const folder of [...SITE_FOLDERS, '.cache']) {
    const dir = path.join(root, folder);
    let st;
    try {
      st = lstatSync(dir, { throwIfNoEntry: false });
    } catch {
      continue;
    }
    if (!st) continue;
    if (st.isSymbolicLink()) {
      found.push(dir);
      continue;
    }
    if (!st.isDirectory()) continue;
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    for (const entry of entries) {
      if (entry.isSymbolicLink()) found.push(path.join(dir, entry.name));
    }
  }
  return found;
}
