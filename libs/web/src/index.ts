export * from './layout';
export * from './web-index';
export * from './publish';
export * from './static-server';
export { searchWebIndex, findMoment, foldTerm, type PageResults, type PageHit, type PageEpisode, type Run, type SearchSettings } from './page/search';
export type { SiteJson } from './page/site-json';
