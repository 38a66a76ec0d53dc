import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { MANIFEST_KEY, ManifestError, readManifest, stableStringify, writeJsonAtomic, type EpisodeManifest, type SitePaths } from '@podline/config';
import { mergeManifests } from '@podline/feeds';
import { StorageError } from './errors';
import { folderOf } from './keys';
import type { ObjectEntry, SiteFolder, StorageBackend } from './types';

/** The folders the search index target produces (entries, index, search page): not part of upload's state (see uploadSite). */
export const INDEX_FOLDERS: readonly SiteFolder[] = ['search-entries', 'search-index', 'web'];

/** Folders whose every file Podline writes itself: the saved feeds and what the index target produces. */
const OWNED_FOLDERS: readonly string[] = ['rss', ...INDEX_FOLDERS];

/**
 * Files Podline writes and rewrites itself: the episode manifest, the saved feeds and the index's products
 * (entries, index, the search page in web/).
 * They follow their content into the bucket whatever conflict mode the operator chose for media (audio,
 * transcripts): a newer local copy replaces the bucket's, and the manifest is merged, never replaced.
 */
export function isOwnedKey(key: string): boolean {
  const folder = folderOf(key);
  return key === MANIFEST_KEY || (folder !== undefined && OWNED_FOLDERS.includes(folder));
}

/**
 * Keys that name other files of the site, in the order they are uploaded: after every other file of the run,
 * and only when all of those went up. The search page's fixed names come first (index.html names the script,
 * site.json the web index and every asset: all content-hashed, so sending those early is harmless), site.json
 * after index.html, and the episode manifest (it names audio and transcripts) last. So a reader never finds
 * one naming an object the bucket lacks, and a failed or killed run leaves the bucket's previous copy.
 */
export const POINTER_KEYS: readonly string[] = ['web/index.html', 'web/site.json', MANIFEST_KEY];

/** A bucket's manifest larger than this is refused (the bucket is not trusted): about 500,000 episodes. */
export const MAX_BUCKET_MANIFEST_BYTES = 512 * 1024 * 1024;

export interface ManifestReconcile {
  /** This machine's manifest after the merge (written to the data folder when it changed). */
  merged: EpisodeManifest;
  /** Episodes the bucket's copy brought in, or got further there. */
  fromBucket: number;
  /** The bucket's copy lacks something this machine has: it needs the merged manifest. */
  bucketBehind: boolean;
  /** Episodes of the bucket's copy left out because their file key is another episode's here. */
  clashes: string[];
}

const same = (a: EpisodeManifest, b: EpisodeManifest) => stableStringify(a) === stableStringify(b);

/**
 * Merge the bucket's episode manifest (`entry`) into the local one, which must exist, and write the result to
 * the data folder when it changed (atomically). The bucket's copy is downloaded beside the other sync
 * bookkeeping, validated like any manifest (version, site), then removed. Throws StorageError when either
 * copy cannot be used, naming which one and what to do: neither file is touched then.
 */
export async function reconcileManifest(backend: StorageBackend, entry: ObjectEntry, paths: SitePaths, siteId: string): Promise<ManifestReconcile> {
  if (entry.size > MAX_BUCKET_MANIFEST_BYTES) {
    throw new StorageError(
      'other',
      `site ${siteId}: the bucket's episode manifest ${MANIFEST_KEY} is ${entry.size} bytes, over the ${MAX_BUCKET_MANIFEST_BYTES}-byte limit; it was left alone`,
      "check that object in the bucket (it is not one Podline wrote): move it aside there, then run upload to write this machine's manifest",
    );
  }
  let local: EpisodeManifest | undefined;
  try {
    local = await readManifest(paths.manifestFile, siteId);
  } catch (err) {
    if (err instanceof ManifestError) throw new StorageError('other', `site ${siteId}: ${err.reason}`, err.fix);
    throw err;
  }
  if (!local) throw new StorageError('other', `site ${siteId}: ${paths.manifestFile} vanished during the sync`, 'run the site again');
  const copy = path.join(paths.cacheDir(), 'sync', 'bucket-manifest.json');
  let bucket: EpisodeManifest | undefined;
  try {
    await backend.download(entry, copy);
    bucket = await readManifest(copy, siteId);
  } catch (err) {
    if (!(err instanceof ManifestError)) throw err;
    throw new StorageError(
      'other',
      `site ${siteId}: the bucket's episode manifest ${MANIFEST_KEY} cannot be used: ${err.reason.replace(copy, 'it')}; it was left alone`,
      "check that object in the bucket: if it is damaged, move it aside there, then run upload to write this machine's manifest",
    );
  } finally {
    await fsp.rm(copy, { force: true });
  }
  if (!bucket) throw new StorageError('other', `site ${siteId}: the bucket's episode manifest vanished while it was read`, 'run the site again');
  const { manifest: merged, added, advanced, clashes } = mergeManifests(local, bucket);
  if (!same(merged, local)) await writeJsonAtomic(paths.manifestFile, merged);
  return { merged, fromBucket: added + advanced, bucketBehind: !same(merged, bucket), clashes };
}
