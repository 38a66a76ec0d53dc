import { queueTranscriber } from '@podline/queue';
import { transcribeSite } from '@podline/transcription';
import { defineSiteExecutor } from '../common';
import type { Schema } from './schema';

/**
 * `transcribe`: downloaded episodes -> SRT transcripts (all of it in @podline/transcription, which takes
 * the executor's options as they are: an empty engine or model means the site's own; in queue mode
 * @podline/queue enqueues and collects instead of running the engine here).
 * Sites of a batch run one at a time: Whisper already uses every core.
 */
const { executor, batch } = defineSiteExecutor<Schema>(
  'transcribe',
  async ({ workspaceRoot, site, paths, options, log }) => {
    const result = await transcribeSite({
      workspaceRoot,
      site,
      paths,
      log,
      options,
      // Queue mode: the engine runs on the queue's workers; this run enqueues and collects.
      remote:
        site.transcription.mode === 'queue'
          ? queueTranscriber({ workspaceRoot, site, paths, options: { wait: options.wait, waitTimeoutSeconds: options.waitTimeout || undefined, retryFailed: options.retryFailed } })
          : undefined,
    });
    // The transcripts this state vouches for: a later run notices if the data folder loses them.
    return { ...result, products: result.state?.transcripts.map((t) => t.key) };
  },
  { batchConcurrency: 1 },
);

export default executor;
export { batch };
