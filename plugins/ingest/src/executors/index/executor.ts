import { defineSiteExecutor } from '../common';
import type { Schema } from './schema';

// Not built yet: writes no state and says so, pretending nothing.
const { executor, batch } = defineSiteExecutor<Schema>('index', async ({ log }) => {
  log.warn('index is not implemented yet; nothing was done');
  return { state: { implemented: false } };
});

export default executor;
export { batch };
