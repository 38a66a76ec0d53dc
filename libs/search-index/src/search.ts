import { keys, type SitePaths } from '@podline/config';
import { openIndexReadonly, searchIndex, type SearchHit } from './sqlite-index';

/** The site has no (usable) index yet. */
export class IndexMissingError extends Error {
  constructor(readonly siteId: string) {
    super(`site ${siteId} has no search index yet (${keys.searchIndex()}): run \`nx run ${siteId}:index\` first`);
  }
}

/** The most hits one search returns. */
export const MAX_SEARCH_LIMIT = 1000;

/** A search option out of range: says which and what is allowed. */
export class SearchOptionError extends Error {
  readonly fix: string;
  constructor(option: string, value: unknown, allowed: string) {
    super(`${option} ${JSON.stringify(value)} is not ${allowed}`);
    this.name = 'SearchOptionError';
    this.fix = `use ${option} with ${allowed}`;
  }
}

/** The number of hits asked for, checked: a whole number from 1 to MAX_SEARCH_LIMIT. */
export function checkSearchLimit(limit: unknown): number {
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_SEARCH_LIMIT) {
    throw new SearchOptionError('--limit', limit, `a whole number from 1 to ${MAX_SEARCH_LIMIT}`);
  }
  return limit;
}

/** Query a site's local index; opened read-only, so searching never changes it. */
export function searchSite(paths: SitePaths, siteId: string, query: string, limit = 10): SearchHit[] {
  checkSearchLimit(limit);
  const db = openIndexReadonly(paths.file(keys.searchIndex()));
  if (!db) throw new IndexMissingError(siteId);
  try {
    return searchIndex(db, query, limit);
  } finally {
    db.close();
  }
}
