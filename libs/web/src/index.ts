// What other projects use from this lib, by name (everything else is internal).
export { WEB_FOLDER } from './layout';
export { buildWebIndex, DEFAULT_RANK_CAP, fileReadAt, type WebIndexInfo } from './web-index';
export { obsoleteWebKey, publishSearchPage, type PublishPageOptions, type PublishPageResult } from './publish';
export { startStaticServer, type StaticServer, type StaticServerOptions } from './static-server';
export { searchWebIndex, findMoment, WebIndex, CorruptIndexError } from './page/search';
export type { SiteJson } from './page/site-json';
