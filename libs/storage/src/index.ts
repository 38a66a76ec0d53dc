// What other projects use from this lib, by name (everything else is internal).
export { contentEncodingFor, contentTypeFor } from './content-type';
export { SYNC_DEFAULTS } from './options';
export { checkSite, INDEX_FOLDERS, preSync, pruneSite, type PruneOptions, type SyncContext, uploadSite } from './sync';
export { isNotFound, StorageError } from './errors';
export { isOwnTempKey, QUEUE_RESULTS_FOLDER } from './keys';
export { POINTER_KEYS } from './owned';
export { openBackend } from './open';
export type { StorageBackend } from './types';
