import { checkSite } from '@podline/storage';
import { defineSiteExecutor } from '../common';
import type { Schema } from './schema';

// Thin: options -> the storage lib's sync engine -> outcome (state, counts, problems).
const { executor, batch } = defineSiteExecutor<Schema>(
  'check',
  ({ site, paths, workspaceRoot, log, options }) => checkSite({ site, paths, workspaceRoot, log }, options),
  { batchConcurrency: 4 },
);

export default executor;
export { batch };
