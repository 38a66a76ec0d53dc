import { keys, type SitePaths } from '@podline/config';
import { openIndexReadonly, searchIndex, type SearchHit } from './sqlite-index';

/** The site has no (usable) index yet. */
export class IndexMissingError extends Error {
  constructor(readonly siteId: string) {
    super(`site ${siteId} has no search index yet (${keys.searchIndex()}): run \`nx run ${siteId}:index\` first`);
  }
}

/** Query a site's local index; opened read-only, so searching never changes it. */
export function searchSite(paths: SitePaths, siteId: string, query: string, limit = 10): SearchHit[] {
  const db = openIndexReadonly(paths.file(keys.searchIndex()));
  if (!db) throw new IndexMissingError(siteId);
  try {
    return searchIndex(db, query, limit);
  } finally {
    db.close();
  }
}
