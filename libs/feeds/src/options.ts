import { withDefaults } from '@podline/config';
import { DEFAULT_MAX_FEED_BYTES } from './feed-fetch';
import { DEFAULT_RETRY } from './retry';

export interface RssOptions {
  /** Say what would be done; write nothing. */
  dryRun?: boolean;
  /** Download only the N newest episodes of each podcast (0: all). */
  maxEpisodes?: number;
  /** Download only episodes published on or after this date (YYYY-MM-DD or ISO 8601). */
  since?: string;
  /** Feeds and downloads at once. */
  concurrency?: number;
  /** Feed: whole-request limit of one attempt; download: idle limit (no data for this long). */
  timeoutSeconds?: number;
  /** One feed, all its attempts together, ends within this. */
  feedDeadlineSeconds?: number;
  /**
   * The whole step for this site ends within this: downloads still running are stopped, those not started are
   * left; both are tried on the next run (reported as `deferred`, never counted as failures).
   */
  deadlineSeconds?: number;
  /** Largest feed accepted, in MB (after decompression). */
  maxFeedMB?: number;
  /** Retries on network errors, 429 and 5xx. */
  retries?: number;
  /** First back-off (doubles per retry, with jitter). */
  retryBaseMs?: number;
  /** Progress lines while a file downloads, every this many ms; 0: one line per finished file (CI). */
  progressIntervalMs?: number;
  /**
   * Give up on an episode whose download failed in this many runs in a row (0: never): later runs
   * skip it and no longer fail, so one dead enclosure does not hold back the site's other phases for good.
   */
  maxFailedRuns?: number;
  /** Try the episodes given up on again. */
  retryFailed?: boolean;
}

/** Every default of RssOptions, in one place (the rss executor's schema repeats them, checked by a spec). */
export const RSS_DEFAULTS: Readonly<Required<RssOptions>> = Object.freeze({
  dryRun: false,
  maxEpisodes: 0,
  since: '',
  concurrency: 3,
  timeoutSeconds: 60,
  feedDeadlineSeconds: 120,
  deadlineSeconds: 2700,
  maxFeedMB: DEFAULT_MAX_FEED_BYTES / 1e6,
  retries: DEFAULT_RETRY.retries,
  retryBaseMs: DEFAULT_RETRY.baseMs,
  progressIntervalMs: 0,
  maxFailedRuns: 3,
  retryFailed: false,
});

/** RssOptions with every default filled in (an empty `since` means no date limit). */
export function resolveRssOptions(options: RssOptions = {}): Required<RssOptions> {
  return withDefaults(RSS_DEFAULTS, options);
}
