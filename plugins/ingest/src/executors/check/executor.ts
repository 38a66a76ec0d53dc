import { checkSite } from '@podline/storage';
import { defineSiteExecutor } from '../common';
import { syncContext } from '../sync-context';
import type { Schema } from './schema';

// Thin: options -> the storage lib's sync engine -> outcome (state, counts, problems).
const { executor, batch } = defineSiteExecutor<Schema>('check', (task) => checkSite(syncContext(task), task.options), { batchConcurrency: 4 });

export default executor;
export { batch };
