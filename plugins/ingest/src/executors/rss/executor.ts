import { backlogState, BACKLOG_STATE, checkProducts, PRODUCTS_STATE, productsState, TARGETS_WITH_PRODUCTS, transcriptBacklog } from '@podline/config';
import { runRss } from '@podline/feeds';
import { runId } from '@podline/report';
import { defineSiteExecutor } from '../common';
import type { Schema } from './schema';

/** On a terminal, rewrite a progress line per file every half second; in CI and logs, one line per finished file. */
const interactive = () => !!process.stdout.isTTY && !process.env.CI;

/**
 * `rss`: the site's feeds -> episode manifest + downloaded audio (all of it in @podline/feeds).
 * Several sites of one batch run at once: the work is network-bound.
 * Last of the outward-looking targets, it also states what the data folder lost of the cached targets'
 * products (the `products` state, hashed by transcribe and index), so a cache hit never stands in for them,
 * and what transcribe still owes when it works in slices (the `backlog` state, hashed by transcribe).
 */
const { executor, batch } = defineSiteExecutor<Schema>(
  'rss',
  async ({ workspaceRoot, site, paths, options, log }) => {
    const { state, manifest, counts, problems } = await runRss(
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
    const lost = await checkProducts(paths, workspaceRoot, TARGETS_WITH_PRODUCTS);
    for (const [target, keys] of Object.entries(lost)) {
      if (!keys.length) continue;
      const what = keys[0] === '(no record)' ? 'are not on record in this data folder' : `are missing or changed here (${keys.slice(0, 3).join(', ')}${keys.length > 3 ? ', …' : ''})`;
      log.warn(`the products of ${target} ${what}: ${target} runs again instead of taking its cache`);
    }
    // Transcription in bounded slices: what still waits is part of transcribe's hash, so a slice is never skipped.
    const capped = !!site.transcription.maxEpisodesPerRun;
    const waiting = capped && !options.dryRun ? await transcriptBacklog(paths, manifest) : [];
    return {
      state,
      counts,
      problems,
      extraStates: { [PRODUCTS_STATE]: productsState(lost, runId()), [BACKLOG_STATE]: backlogState(capped, waiting) },
    };
  },
  { batchConcurrency: 4 },
);

export default executor;
export { batch };
