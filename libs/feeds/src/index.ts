// What other projects use from this lib, by name (everything else is internal).
export { downloadAudio } from './download';
export { openUrl, readBody } from './http';
export { type ManifestMerge, mergeManifests } from './manifest-merge';
export { RSS_DEFAULTS, type RssOptions } from './options';
export { runRss, type RssLogger, type RssResult } from './sync';
export { RefusedUrlError, untrustedUrlPolicy, type UrlPolicy } from './url-policy';
