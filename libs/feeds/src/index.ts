// What other projects use from this lib, by name (everything else is internal).
export { RSS_DEFAULTS } from './options';
export { runRss } from './sync';
