import type { ConflictMode } from '@podline/config';
import type { ObjectEntry } from './types';

/** What to do with one key, given its source entry and (maybe) its target entry. */
export type Decision =
  /** copy it */
  | 'transfer'
  /** target exists, skip-existing */
  | 'exists'
  /** both sides hold the same content */
  | 'same'
  /** overwrite-if-newer, and the source is not newer */
  | 'not-newer';

/**
 * Clock slack when comparing modification times: S3's LastModified has one-second resolution and local
 * filesystems may round.
 */
const MTIME_SLACK_MS = 1000;

/**
 * Conflict resolution, the same in both directions. Nothing is ever deleted:
 * - skip-existing: never overwrite;
 * - overwrite-if-newer: overwrite when the source's mtime is later (beyond the slack); on equal times,
 *   when the source is larger;
 * - overwrite-always: overwrite whenever the content may differ.
 * Content known to be identical (same size and same MD5) is never copied again: that would change nothing.
 * `same()` answers true/false when known, undefined when it cannot tell (e.g. multipart ETags).
 */
export async function decide(
  source: ObjectEntry,
  target: ObjectEntry | undefined,
  mode: ConflictMode | 'owned',
  same: () => Promise<boolean | undefined>,
): Promise<Decision> {
  if (!target) return 'transfer';
  if (mode === 'owned') return decideOwned(source, target, await same());
  if (mode === 'skip-existing') return 'exists';
  if ((await same()) === true) return 'same';
  if (mode === 'overwrite-always') return 'transfer';
  const diff = source.mtimeMs - target.mtimeMs;
  if (diff > MTIME_SLACK_MS) return 'transfer';
  if (Math.abs(diff) <= MTIME_SLACK_MS && source.size > target.size) return 'transfer';
  return 'not-newer';
}

/**
 * Files Podline owns (see owned.ts) follow their content whatever the operator's mode: copied when known to
 * differ, unless the target is newer (beyond the slack); when the content cannot be compared (multipart
 * ETags), when the source is newer.
 */
function decideOwned(source: ObjectEntry, target: ObjectEntry, same: boolean | undefined): Decision {
  if (same === true) return 'same';
  const diff = source.mtimeMs - target.mtimeMs;
  if (same === false ? diff >= -MTIME_SLACK_MS : diff > MTIME_SLACK_MS) return 'transfer';
  return 'not-newer';
}
