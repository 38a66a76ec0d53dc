export interface Schema {
  dryRun?: boolean;
  verbose?: boolean;
  maxEpisodes?: number;
  since?: string;
  concurrency?: number;
  timeoutSeconds?: number;
  feedDeadlineSeconds?: number;
  deadlineSeconds?: number;
  maxFeedMB?: number;
  retries?: number;
  maxFailedRuns?: number;
  retryFailed?: boolean;
}
