import * as path from 'node:path';
import { isTempOrJunk, SITE_FOLDERS, unsafeKeyPart, type SiteFolder } from '@podline/config';

/** Absolute path of a site key under `root`; refuses keys that would escape it. */
export function keyPath(root: string, key: string): string {
  if (unsafeKeyPart(key) || path.isAbsolute(key)) throw new Error(`refusing unsafe key "${key}"`);
  return path.join(root, ...key.split('/'));
}

/** The synced folder a key belongs to, or undefined (outside the synced folders, a dot-entry, or junk). */
export function folderOf(key: string): SiteFolder | undefined {
  const first = key.split('/', 1)[0];
  if (!(SITE_FOLDERS as readonly string[]).includes(first)) return undefined;
  if (key.endsWith('/') || key.split('/').some((p) => p.startsWith('.') || isTempOrJunk(p))) return undefined;
  return first as SiteFolder;
}

/**
 * Podline's own temp objects in a site's bucket, outside the synced folders: transcripts queue workers
 * finished, until the site's coordinator has them in its data folder. The only keys a backend may delete.
 */
export const QUEUE_RESULTS_FOLDER = 'queue-results';

/** Whether `key` is one of Podline's own temp objects (and a safe key): the only kind `removeTemp` accepts. */
export function isOwnTempKey(key: string): boolean {
  return key.startsWith(`${QUEUE_RESULTS_FOLDER}/`) && !unsafeKeyPart(key) && !key.endsWith('/');
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

/** Longest file or folder name most file systems store (bytes); our temp names add about 30 more. */
const MAX_NAME_BYTES = 255 - 32;

/** Why a bucket key cannot be stored as a local file (undefined: it can). Such keys are skipped with a warning. */
export function unstorableReason(key: string): string | undefined {
  const unsafe = unsafeKeyPart(key);
  if (unsafe) return unsafe;
  const long = key.split('/').find((p) => Buffer.byteLength(p) > MAX_NAME_BYTES);
  if (long) return `a name in it is ${Buffer.byteLength(long)} bytes long (at most ${MAX_NAME_BYTES} can be stored)`;
  return undefined;
}

/** File-system errors that mean "this key cannot be a local file here" (name clash, name too long, bad name). */
export function isUnstorableError(err: unknown): boolean {
  return ['ENOTDIR', 'EISDIR', 'ENAMETOOLONG', 'EEXIST', 'EILSEQ', 'EINVAL'].includes((err as NodeJS.ErrnoException)?.code ?? '');
}
