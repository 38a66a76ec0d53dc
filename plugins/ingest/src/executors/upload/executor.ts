import { uploadSite } from '@podline/storage';
import { defineSiteExecutor } from '../common';
import type { Schema } from './schema';

// Thin: options -> the storage lib's sync engine -> outcome (state, counts, problems).
const { executor, batch } = defineSiteExecutor<Schema>(
  'upload',
  ({ site, paths, workspaceRoot, log, options }) => uploadSite({ site, paths, workspaceRoot, log }, options),
  { batchConcurrency: 4 },
);

export default executor;
export { batch };
