import { lstatSync, readdirSync, rmSync, type Dirent } from 'node:fs';
import * as path from 'node:path';
import { isStaleTemp, isTempOrJunk, type SiteFolder } from '@podline/config';
import type { Listing } from './types';

/** Called for each symbolic link met (and not followed) while walking. */
export type OnSymlink = (link: string) => void;

/**
 * The folder's entries, or undefined when it is missing or is itself a symbolic link (reported, not followed).
 *
 * The walks here use the synchronous calls: a walk is many tiny metadata calls, and each asynchronous one
 * costs more CPU (a promise and a round trip through the thread pool) than the call itself — at 200 sites
 * that was most of what a no-op run's `pre-sync` and `check` spent per site. Local metadata calls do not wait
 * on the network, so blocking the event loop for each is shorter than the callback would have been.
 */
function readRealDir(dir: string, onSymlink?: OnSymlink): Dirent[] | undefined {
  const st = lstatSync(dir, { throwIfNoEntry: false });
  if (!st) return undefined;
  if (st.isSymbolicLink()) {
    onSymlink?.(dir);
    return undefined;
  }
  if (!st.isDirectory()) return undefined;
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Every data file under `root`/<folder> for the given folders, as site keys. Dot-entries (local-only
 * bookkeeping) and temp/junk files are never listed. Missing folders are simply empty. Symbolic links, at any
 * level, are never followed: they are reported to `onSymlink` and left out.
 */
export async function walkFolders(root: string, folders: readonly SiteFolder[], onSymlink?: OnSymlink): Promise<Listing> {
  const out: Listing = new Map();
  const visit = (dir: string, prefix: string): void => {
    const dirents = readRealDir(dir, onSymlink);
    if (!dirents) return;
    for (const d of dirents) {
      if (d.name.startsWith('.') || isTempOrJunk(d.name)) continue;
      const abs = path.join(dir, d.name);
      const key = `${prefix}/${d.name}`;
      if (d.isSymbolicLink()) onSymlink?.(abs);
      else if (d.isDirectory()) visit(abs, key);
      else if (d.isFile()) {
        // Gone since the folder was read (another writer's rename): not listed.
        const st = lstatSync(abs, { throwIfNoEntry: false });
        if (st?.isFile()) out.set(key, { key, size: st.size, mtimeMs: Math.round(st.mtimeMs) });
      }
    }
  };
  for (const folder of folders) visit(path.join(root, folder), folder);
  return out;
}

/**
 * Remove our own temp files left by a killed run (their writer is gone, so they can never become
 * complete). Only our suffix, only dead writers: never user files, never a live writer's temp, never through
 * a symbolic link. Used on the data folder and on a local bucket alike.
 */
export async function removeStaleTemps(root: string, folders: readonly SiteFolder[]): Promise<number> {
  let removed = 0;
  const visit = (dir: string): void => {
    let dirents: Dirent[] | undefined;
    try {
      dirents = readRealDir(dir);
    } catch {
      return;
    }
    if (!dirents) return;
    for (const d of dirents) {
      const abs = path.join(dir, d.name);
      if (d.isDirectory() && !d.name.startsWith('.')) visit(abs);
      else if (d.isFile() && isStaleTemp(d.name)) {
        rmSync(abs, { force: true });
        removed++;
      }
    }
  };
  for (const folder of folders) visit(path.join(root, folder));
  return removed;
}
