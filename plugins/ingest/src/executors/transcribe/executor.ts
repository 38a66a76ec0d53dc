import { transcribeSite } from '@podline/transcription';
import { defineSiteExecutor } from '../common';
import type { Schema } from './schema';

/**
 * `transcribe`: downloaded episodes -> SRT transcripts (all of it in @podline/transcription, which takes
 * the executor's options as they are: an empty engine or model means the site's own).
 * Sites of a batch run one at a time: Whisper already uses every core.
 */
const { executor, batch } = defineSiteExecutor<Schema>(
  'transcribe',
  async ({ workspaceRoot, site, paths, options, log }) => {
    const result = await transcribeSite({ workspaceRoot, site, paths, log, options });
    // The transcripts this state vouches for: a later run notices if the data folder loses them.
    return { ...result, products: result.state?.transcripts.map((t) => t.key) };
  },
  { batchConcurrency: 1 },
);

export default executor;
export { batch };
