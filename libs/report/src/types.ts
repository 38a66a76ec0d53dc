/** One failure: which site, podcast, episode or file, what happened, and what to do. */
export interface TaskProblem {
  site: string;
  podcast?: string;
  episode?: string;
  file?: string;
  message: string;
  fix?: string;
}

/** What one task did in one run (Nx does not hash this: it is history, not state). */
export interface TaskRecord {
  site: string;
  target: string;
  success: boolean;
  dryRun: boolean;
  seconds: number;
  counts: Record<string, number>;
  problems: TaskProblem[];
}

/**
 * What one site's step produced (every lib's step returns one; the executor writes the state and records
 * the rest).
 * - `state`: the resulting state of the site (deterministic: sorted, no timestamps, no counts of this run);
 *   undefined in dry-run, and the state file is left untouched.
 * - `counts`: what this run did (downloaded: 3, bytes: 1234 …), for the report and summary line.
 * - `problems`: per-episode/per-file failures; any problem makes the task fail (after all other work is done).
 */
export interface TaskResult<S = unknown> {
  state?: S;
  counts: Record<string, number>;
  problems: TaskProblem[];
}
