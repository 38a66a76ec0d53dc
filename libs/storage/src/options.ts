import { CONFLICT_MODES, DEFAULT_CONFLICT, isConflictMode, withDefaults, type ConflictMode } from '@podline/config';
import { StorageError } from './errors';

/** The options of pre-sync, check and upload (their schema.json mirrors this; a spec checks the defaults). */
export interface SyncOptions {
  dryRun?: boolean;
  /** Subset of the synced folders (default: all; upload skips the search folders when the index is remote). */
  folders?: string[];
  /** Transfers in flight. */
  concurrency?: number;
  conflict?: ConflictMode;
  /** Files of this size or more are uploaded in parts. */
  multipartThresholdMB?: number;
  /** Retries per request on 5xx/429/timeouts/network errors. */
  retries?: number;
}

/** Every default of SyncOptions, in one place (the executors' schemas repeat them, checked by a spec). */
export const SYNC_DEFAULTS: Readonly<Required<SyncOptions>> = Object.freeze({
  dryRun: false,
  folders: [],
  concurrency: 8,
  conflict: DEFAULT_CONFLICT,
  multipartThresholdMB: 16,
  retries: 4,
});

/** SyncOptions with every default filled in; an unknown conflict mode stops the site's run, naming the valid ones. */
export function resolveSyncOptions(siteId: string, options: SyncOptions = {}): Required<SyncOptions> {
  const resolved = withDefaults(SYNC_DEFAULTS, options);
  if (!isConflictMode(resolved.conflict)) {
    throw new StorageError('other', `site ${siteId}: unknown conflict mode "${resolved.conflict}"`, `use one of: ${CONFLICT_MODES.join(', ')}`);
  }
  return resolved;
}
