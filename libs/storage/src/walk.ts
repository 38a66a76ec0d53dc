import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { ifExists, isStaleTemp, isTempOrJunk, type SiteFolder } from '@podline/config';
import type { Listing } from './types';

/** Called for each symbolic link met (and not followed) while walking. */
export type OnSymlink = (link: string) => void;

/** The folder's entries, or undefined when it is missing or is itself a symbolic link (reported, not followed). */
async function readRealDir(dir: string, onSymlink?: OnSymlink) {
  const st = await ifExists(fsp.lstat(dir));
  if (!st) return undefined;
  if (st.isSymbolicLink()) {
    onSymlink?.(dir);
    return undefined;
  }
  if (!st.isDirectory()) return undefined;
  return ifExists(fsp.readdir(dir, { withFileTypes: true }));
}

/**
 * Every data file under `root`/<folder> for the given folders, as site keys. Dot-entries (local-only
 * bookkeeping) and temp/junk files are never listed. Missing folders are simply empty. Symbolic links, at any
 * level, are never followed: they are reported to `onSymlink` and left out.
 */
export async function walkFolders(root: string, folders: readonly SiteFolder[], onSymlink?: OnSymlink): Promise<Listing> {
  const out: Listing = new Map();
  const visit = async (dir: string, prefix: string): Promise<void> => {
    const dirents = await readRealDir(dir, onSymlink);
    if (!dirents) return;
    await Promise.all(
      dirents.map(async (d) => {
        if (d.name.startsWith('.') || isTempOrJunk(d.name)) return;
        const abs = path.join(dir, d.name);
        const key = `${prefix}/${d.name}`;
        if (d.isSymbolicLink()) return onSymlink?.(abs);
        if (d.isDirectory()) return visit(abs, key);
        if (!d.isFile()) return;
        const st = await fsp.lstat(abs);
        if (!st.isFile()) return;
        out.set(key, { key, size: st.size, mtimeMs: Math.round(st.mtimeMs) });
      }),
    );
  };
  for (const folder of folders) await visit(path.join(root, folder), folder);
  return out;
}

/**
 * Remove our own temp files left by a killed run (their writer is gone, so they can never become
 * complete). Only our suffix, only dead writers: never user files, never a live writer's temp, never through
 * a symbolic link. Used on the data folder and on a local bucket alike.
 */
export async function removeStaleTemps(root: string, folders: readonly SiteFolder[]): Promise<number> {
  let removed = 0;
  const visit = async (dir: string): Promise<void> => {
    const dirents = await readRealDir(dir).catch(() => undefined);
    if (!dirents) return;
    for (const d of dirents) {
      const abs = path.join(dir, d.name);
      if (d.isDirectory() && !d.name.startsWith('.')) await visit(abs);
      else if (d.isFile() && isStaleTemp(d.name)) {
        await fsp.rm(abs, { force: true });
        removed++;
      }
    }
  };
  for (const folder of folders) await visit(path.join(root, folder));
  return removed;
}
