import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { ifExists, isStaleTemp, isTempOrJunk, type SiteFolder } from '@podline/config';
import type { Listing } from './types';

/**
 * Every data file under `root`/<folder> for the given folders, as site keys. Dot-entries (local-only
 * bookkeeping) and temp/junk files are never listed. Missing folders are simply empty.
 */
export async function walkFolders(root: string, folders: readonly SiteFolder[]): Promise<Listing> {
  const out: Listing = new Map();
  const visit = async (dir: string, prefix: string): Promise<void> => {
    const dirents = await ifExists(fsp.readdir(dir, { withFileTypes: true }));
    if (!dirents) return;
    await Promise.all(
      dirents.map(async (d) => {
        if (d.name.startsWith('.') || isTempOrJunk(d.name)) return;
        const abs = path.join(dir, d.name);
        const key = `${prefix}/${d.name}`;
        if (d.isDirectory()) return visit(abs, key);
        if (!d.isFile()) return;
        const st = await fsp.stat(abs);
        out.set(key, { key, size: st.size, mtimeMs: Math.round(st.mtimeMs) });
      }),
    );
  };
  for (const folder of folders) await visit(path.join(root, folder), folder);
  return out;
}

/** Parse the writer's pid out of one of our temp names (`.<name>.<pid>.<hex>.podline-tmp`). */
/**
 * Remove our own temp files left by a killed run (their writer is gone, so they can never become
 * complete). Only our suffix, only dead writers: never user files, never a live writer's temp.
 */
export async function removeStaleTemps(root: string, folders: readonly SiteFolder[]): Promise<number> {
  let removed = 0;
  const visit = async (dir: string): Promise<void> => {
    let dirents;
    try {
      dirents = await fsp.readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const d of dirents) {
      const abs = path.join(dir, d.name);
      if (d.isDirectory() && !d.name.startsWith('.')) await visit(abs);
      else if (d.isFile()) {
        if (isStaleTemp(d.name)) {
          await fsp.rm(abs, { force: true });
          removed++;
        }
      }
    }
  };
  for (const folder of folders) await visit(path.join(root, folder));
  return removed;
}
