import { PodlineError, keys, withDefaults, type SitePaths } from '@podline/config';
import { openIndexReadonly, searchIndex, type SearchHit } from './sqlite-index';

/** The site has no (usable) index yet. */
export class IndexMissingError extends PodlineError {
  constructor(readonly siteId: string) {
    super(`site ${siteId} has no search index yet (${keys.searchIndex()}): run \`nx run ${siteId}:index\` first`, { site: siteId, fix: `run \`nx run ${siteId}:index\`` });
  }
}

/** The most hits one search returns. */
export const MAX_SEARCH_LIMIT = 1000;

/** A search option out of range: says which and what is allowed. */
export class SearchOptionError extends PodlineError {
  constructor(option: string, value: unknown, allowed: string) {
    super(`${option} ${JSON.stringify(value)} is not ${allowed}`, { fix: `use ${option} with ${allowed}` });
  }
}

/** The number of hits asked for, checked: a whole number from 1 to MAX_SEARCH_LIMIT. */
export function checkSearchLimit(limit: unknown): number {
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_SEARCH_LIMIT) {
    throw new SearchOptionError('--limit', limit, `a whole number from 1 to ${MAX_SEARCH_LIMIT}`);
  }
  return limit;
}

/** The search target's options; `query` is FTS5 syntax (words, "a phrase", prefix*). */
export interface SearchOptions {
  query?: string;
  /** Search for the query as one phrase. */
  phrase?: boolean;
  /** Print JSON instead of text. */
  json?: boolean;
  /** At most this many hits. */
  limit?: number;
}

/** Every default of SearchOptions (the search executor's schema repeats them, checked by a spec). */
export const SEARCH_DEFAULTS: Readonly<Required<SearchOptions>> = Object.freeze({ query: '', phrase: false, json: false, limit: 10 });

/** SearchOptions with defaults filled in, and the FTS5 query to run (the typed words as a phrase with `phrase`). */
export function resolveSearchOptions(options: SearchOptions = {}): Required<SearchOptions> {
  const o = withDefaults(SEARCH_DEFAULTS, options);
  const typed = o.query.trim();
  return { ...o, query: o.phrase && typed ? `"${typed.replace(/"/g, ' ').trim()}"` : typed };
}

/** Query a site's local index; opened read-only, so searching never changes it. */
export function searchSite(paths: SitePaths, siteId: string, query: string, limit = SEARCH_DEFAULTS.limit): SearchHit[] {
  checkSearchLimit(limit);
  const db = openIndexReadonly(paths.file(keys.searchIndex()));
  if (!db) throw new IndexMissingError(siteId);
  try {
    return searchIndex(db, query, limit);
  } finally {
    db.close();
  }
}
