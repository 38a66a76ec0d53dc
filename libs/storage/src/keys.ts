import * as path from 'node:path';
import { isTempOrJunk, SITE_FOLDERS, type SiteFolder } from '@podline/config';

/** Absolute path of a site key under `root`; refuses keys that would escape it. */
export function keyPath(root: string, key: string): string {
  if (key.split('/').some((p) => p === '..' || p === '') || path.isAbsolute(key)) throw new Error(`refusing unsafe key "${key}"`);
  return path.join(root, ...key.split('/'));
}

/** The synced folder a key belongs to, or undefined (outside the synced folders, a dot-entry, or junk). */
export function folderOf(key: string): SiteFolder | undefined {
  const first = key.split('/', 1)[0];
  if (!(SITE_FOLDERS as readonly string[]).includes(first)) return undefined;
  if (key.endsWith('/') || key.split('/').some((p) => p.startsWith('.') || isTempOrJunk(p))) return undefined;
  return first as SiteFolder;
}

/** The podcast a key belongs to (audio/<podcast>/…, transcripts/<podcast>/…, rss/<podcast>.xml). */
export function podcastOf(key: string): string | undefined {
  const parts = key.split('/');
  if (parts[0] === 'rss') return parts[1]?.replace(/\.xml$/, '');
  if (parts.length >= 3 && ['audio', 'transcripts', 'search-entries'].includes(parts[0])) return parts[1];
  return undefined;
}

/** The order every listing, plan and state is sorted in: config's one key order. */
export { byKey, compareKeys } from '@podline/config';
