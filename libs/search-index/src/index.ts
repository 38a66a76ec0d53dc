// What other projects use from this lib, by name (everything else is internal).
export { buildSiteIndex } from './build';
export { type EntryFile } from './entries';
export { resolveSearchOptions, SEARCH_DEFAULTS, type SearchOptions, searchSite } from './search';
export { buildFullIndex, type EpisodeToIndex, type SearchHit, searchIndex } from './sqlite-index';
export { indexSite } from './lambda';
export { S3ObjectStore } from './object-store';
