import { defineSiteExecutor } from '../common';
import type { Schema } from './schema';

// Not built yet: writes no state and says so, pretending nothing.
const { executor, batch } = defineSiteExecutor<Schema>('transcribe', async ({ log }) => {
  log.warn('transcribe is not implemented yet; nothing was done');
  return { state: { implemented: false } };
});

export default executor;
export { batch };
