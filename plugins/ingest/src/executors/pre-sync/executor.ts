import { preSync } from '@podline/storage';
import { defineSiteExecutor } from '../common';
import type { Schema } from './schema';

// Thin: options -> the storage lib's sync engine -> outcome (state, counts, problems).
const { executor, batch } = defineSiteExecutor<Schema>(
  'pre-sync',
  ({ site, paths, workspaceRoot, log, options }) => preSync({ site, paths, workspaceRoot, log }, options),
  { batchConcurrency: 4 },
);

export default executor;
export { batch };
