import { existsSync, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { isTempOrJunk, keys, SitePaths, writeFileAtomic, writeJsonAtomic } from '@podline/config';
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

/** Which bucket objects the scratch folder holds, by ETag (valid only between complete runs). */
const PULLED_MEMO = '.pulled-etags.json';
/** What the build reads from the bucket, besides the manifest. */
const MIRRORED = ['transcripts/', 'search-entries/', 'search-index/'];

/**
 * Make the scratch folder's copy of `MIRRORED` exactly the bucket's: fetch what is new or changed (by ETag,
 * so a warm container fetches only what changed since its last run), delete what the bucket no longer has.
 * The memo is removed while the folder is being changed and written back only after a complete run, so an
 * interrupted run can never leave local edits that look like the bucket's content.
 */
async function mirror(store: ObjectStore, paths: SitePaths, memoFile: string): Promise<{ etags: Record<string, string>; fetched: number }> {
  let memo: Record<string, string> = {};
  try {
    memo = JSON.parse(await fsp.readFile(memoFile, 'utf8')) as Record<string, string>;
  } catch {
    /* cold start, or the last run did not complete */
  }
  await fsp.rm(memoFile, { force: true });
  const listed = (await Promise.all(MIRRORED.map((p) => store.list(p)))).flat().filter((o) => !isTempOrJunk(o.key) && !o.key.endsWith('/'));
  const inBucket = new Set(listed.map((o) => o.key));
  for (const folder of MIRRORED) {
    const dir = paths.file(folder.slice(0, -1));
    let names: string[] = [];
    try {
      names = (await fsp.readdir(dir, { recursive: true })) as string[];
    } catch {
      continue;
    }
    for (const name of names) {
      const key = folder + name.split(path.sep).join('/');
      if (!inBucket.has(key) && (await fsp.stat(paths.file(key))).isFile()) await fsp.rm(paths.file(key), { force: true });
    }
  }
  const next: Record<string, string> = {};
  let fetched = 0;
  await eachLimit(listed, 8, async ({ key, etag }) => {
    if (etag && memo[key] === etag && existsSync(paths.file(key))) {
      next[key] = etag;
      return;
    }
    const body = await store.get(key);
    if (!body) return; // deleted since listing
    await writeFileAtomic(paths.file(key), body);
    fetched++;
    if (etag) next[key] = etag;
  });
  return { etags: next, fetched };
}

/**
 * The index build against a bucket: mirror the manifest, transcripts, current entry files and index into a
 * scratch folder, run the very same buildSiteIndex, and push back the entry files it rewrote and the index.
 * Entry files and index are pushed before returning; a failure part-way leaves the previous index in place.
 */
export async function buildFromStore(opts: StoreBuildOptions): Promise<BuildResult & { uploaded: string[]; fetched: number }> {
  const { store, siteId } = opts;
  const paths = new SitePaths(siteId, opts.workDir, { PODLINE_DATA_DIR: path.join(opts.workDir, 'data') });
  const manifest = await store.get(keys.manifest());
  if (!manifest) throw new Error(`site ${siteId}: the bucket has no ${keys.manifest()}; run upload first`);
  await writeFileAtomic(paths.manifestFile, manifest);
  const memoFile = path.join(paths.root, PULLED_MEMO);
  const { etags, fetched } = await mirror(store, paths, memoFile);

  const result = await buildSiteIndex({ siteId, paths, force: opts.force, log: opts.log });
  const uploaded: string[] = [];
  const push = async (key: string, contentType: string) => {
    const etag = await store.put(key, await fsp.readFile(paths.file(key)), contentType);
    if (etag) etags[key] = etag;
    else delete etags[key];
    uploaded.push(key);
  };
  await eachLimit(result.writtenKeys, 8, (key) => push(key, 'application/json'));
  if (result.indexChanged) await push(keys.searchIndex(), 'application/vnd.sqlite3');
  await writeJsonAtomic(memoFile, etags);
  return { ...result, uploaded: uploaded.sort(), fetched };
}
