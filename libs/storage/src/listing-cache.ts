import { promises as fsp, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { writeJsonAtomic } from '@podline/config';
import { byKey } from './keys';
import type { Listing, ObjectEntry } from './types';

/**
 * The bucket listing of the current run, kept in the site's local-only cache folder so that pre-sync,
 * check and upload of one run list the bucket once. It is valid only for the same run id (the plugin
 * sets PODLINE_RUN_ID for every task of one Nx run) and the same backend; with no run id, nothing is
 * reused and every target lists again. Tasks of one site run one after another, so there is one writer.
 */
interface CachedListing {
  runId: string;
  backend: string;
  entries: ObjectEntry[];
}

export class ListingCache {
  constructor(
    private readonly file: string,
    private readonly runId: string | undefined,
    private readonly backendId: string,
  ) {}

  static forSite(cacheDir: string, runId: string | undefined, backendId: string): ListingCache {
    return new ListingCache(path.join(cacheDir, 'sync', 'bucket-listing.json'), runId, backendId);
  }

  async load(): Promise<Listing | undefined> {
    if (!this.runId) return undefined;
    try {
      const cached = JSON.parse(readFileSync(this.file, 'utf8')) as CachedListing;
      if (cached.runId !== this.runId || cached.backend !== this.backendId) return undefined;
      return new Map(cached.entries.map((e) => [e.key, e]));
    } catch {
      return undefined;
    }
  }

  async save(listing: Listing): Promise<void> {
    if (!this.runId) return;
    const entries = [...listing.values()].sort(byKey);
    await writeJsonAtomic(this.file, { runId: this.runId, backend: this.backendId, entries } satisfies CachedListing);
  }
}
