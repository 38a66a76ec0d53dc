/**
 * What a sync does with a key that is on both sides (pre-sync, check, upload): the one list and the one
 * default. The executors' schema.json files repeat them (JSON cannot import); a spec checks they agree.
 * - skip-existing: never overwrite;
 * - overwrite-if-newer: overwrite when the source's modification time is later (equal times: when it is larger);
 * - overwrite-always: overwrite unless the content is known identical.
 */
export const CONFLICT_MODES = ['skip-existing', 'overwrite-if-newer', 'overwrite-always'] as const;
export type ConflictMode = (typeof CONFLICT_MODES)[number];
/** Never overwrite. */
export const DEFAULT_CONFLICT: ConflictMode = 'skip-existing';

export function isConflictMode(mode: unknown): mode is ConflictMode {
  return (CONFLICT_MODES as readonly unknown[]).includes(mode);
}
