import { runRss } from '@podline/feeds';
import { defineSiteExecutor } from '../common';
import type { Schema } from './schema';

/** On a terminal, rewrite a progress line per file every half second; in CI and logs, one line per finished file. */
const interactive = () => !!process.stdout.isTTY && !process.env.CI;

/**
 * `rss`: the site's feeds -> episode manifest + downloaded audio (all of it in @podline/feeds).
 * Several sites of one batch run at once: the work is network-bound.
 */
const { executor, batch } = defineSiteExecutor<Schema>(
  'rss',
  async ({ site, paths, options, log }) => {
    const { state, counts, problems } = await runRss(
      site,
      paths,
      {
        dryRun: options.dryRun,
        maxEpisodes: options.maxEpisodes,
        since: options.since || undefined,
        concurrency: options.concurrency,
        timeoutSeconds: options.timeoutSeconds,
        feedDeadlineSeconds: options.feedDeadlineSeconds,
        deadlineSeconds: options.deadlineSeconds,
        maxFeedMB: options.maxFeedMB,
        retries: options.retries,
        maxFailedRuns: options.maxFailedRuns,
        retryFailed: options.retryFailed,
        progressIntervalMs: interactive() ? 500 : 0,
      },
      log,
    );
    return { state, counts, problems };
  },
  { batchConcurrency: 4 },
);

export default executor;
export { batch };
