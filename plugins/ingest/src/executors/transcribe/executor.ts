import { transcribeSite } from '@podline/transcription';
import { defineSiteExecutor } from '../common';
import type { Schema } from './schema';

/**
 * `transcribe`: downloaded episodes -> SRT transcripts (all of it in @podline/transcription).
 * Sites of a batch run one at a time: Whisper already uses every core.
 */
const { executor, batch } = defineSiteExecutor<Schema>(
  'transcribe',
  ({ workspaceRoot, site, paths, options, log }) =>
    transcribeSite({
      workspaceRoot,
      site,
      paths,
      log,
      options: {
        dryRun: options.dryRun,
        force: options.force,
        threads: options.threads,
        beamSize: options.beamSize,
        maxEpisodes: options.maxEpisodes,
        engine: options.engine || undefined,
        model: options.model || undefined,
      },
    }),
  { batchConcurrency: 1 },
);

export default executor;
export { batch };
