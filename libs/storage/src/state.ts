import { createHash } from 'node:crypto';
import { SITE_FOLDERS, type SiteFolder } from '@podline/config';
import { byKey, folderOf } from './keys';
import type { Listing } from './types';

export interface FolderDigest {
  objects: number;
  bytes: number;
  /** sha256 over the sorted "key size etag" lines: changes exactly when the folder's content changes. */
  digest: string;
}

/** Per-folder digest of a listing (deterministic: no times, sorted). */
export function digestListing(listing: Listing, folders: readonly SiteFolder[] = SITE_FOLDERS): Record<string, FolderDigest> {
  const out: Record<string, FolderDigest> = {};
  for (const folder of folders) {
    const entries = [...listing.values()].filter((e) => folderOf(e.key) === folder).sort(byKey);
    const hash = createHash('sha256');
    let bytes = 0;
    for (const e of entries) {
      hash.update(`${e.key}\t${e.size}\t${e.etag ?? ''}\n`);
      bytes += e.size;
    }
    out[folder] = { objects: entries.length, bytes, digest: hash.digest('hex') };
  }
  return out;
}
