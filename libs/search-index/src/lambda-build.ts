import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { isTempOrJunk, keys, SitePaths, writeFileAtomic } from '@podline/config';
import { buildSiteIndex, type BuildLog, type BuildResult } from './build';
import type { ObjectStore } from './object-store';

/** Run `work` over `items`, at most `limit` at once. */
async function eachLimit<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await work(items[next++]);
    }),
  );
}

export interface StoreBuildOptions {
  siteId: string;
  store: ObjectStore;
  /** Local scratch folder (in Lambda: under /tmp); reused across warm invocations. */
  workDir: string;
  force?: boolean;
  log?: BuildLog;
}

/**
 * The index build against a bucket: pull the manifest, transcripts, current entry files and index into a
 * scratch folder, run the very same buildSiteIndex, and push back the entry files it rewrote and the index.
 * Entry files and index are pushed before returning; a failure part-way leaves the previous index in place.
 */
export async function buildFromStore(opts: StoreBuildOptions): Promise<BuildResult & { uploaded: string[] }> {
  const { store, siteId } = opts;
  const paths = new SitePaths(siteId, opts.workDir, { PODLINE_DATA_DIR: path.join(opts.workDir, 'data') });
  const manifest = await store.get(keys.manifest());
  if (!manifest) throw new Error(`site ${siteId}: the bucket has no ${keys.manifest()}; run upload first`);
  await writeFileAtomic(paths.manifestFile, manifest);

  const wanted = [...(await store.list('transcripts/')), ...(await store.list('search-entries/')), keys.searchIndex()];
  const pulls = wanted.filter((k) => !isTempOrJunk(k) && !k.endsWith('/'));
  await eachLimit(pulls, 8, async (key) => {
    const body = await store.get(key);
    if (body) await writeFileAtomic(paths.file(key), body);
  });

  const result = await buildSiteIndex({ siteId, paths, force: opts.force, log: opts.log });
  const uploaded: string[] = [];
  await eachLimit(result.writtenKeys, 8, async (key) => {
    await store.put(key, await fsp.readFile(paths.file(key)), 'application/json');
    uploaded.push(key);
  });
  if (result.indexChanged) {
    await store.put(keys.searchIndex(), await fsp.readFile(paths.file(keys.searchIndex())), 'application/vnd.sqlite3');
    uploaded.push(keys.searchIndex());
  }
  return { ...result, uploaded: uploaded.sort() };
}
