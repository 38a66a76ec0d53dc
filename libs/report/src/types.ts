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
