import { defineSiteExecutor } from '../common';
import { runLambda } from './lambda-mode';
import { runLocal } from './local-mode';
import type { Schema } from './schema';

/** index: local SQLite FTS5 build, or the site's indexing Lambda (site.index.kind). */
const { executor, batch } = defineSiteExecutor<Schema>('index', (task) => (task.site.index.kind === 'lambda' ? runLambda(task) : runLocal(task)), {
  batchConcurrency: 4,
});

export default executor;
export { batch };
