export * from './srt';
export * from './entries';
export * from './query';
export * from './sqlite-index';
export * from './build';
export * from './search';
export * from './object-store';
export * from './lambda-build';
export { handler as lambdaHandler, indexSite, type IndexEvent, type IndexResponse } from './lambda';
