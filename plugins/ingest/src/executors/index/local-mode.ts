import { buildSiteIndex } from '@podline/search-index';
import type { SiteTask, TaskOutcome } from '../common';
import type { Schema } from './schema';

/** Local mode: build the entries and the SQLite index in the site's data folder. */
export async function runLocal({ site, paths, options, log }: SiteTask<Schema>): Promise<TaskOutcome> {
  try {
    const result = await buildSiteIndex({ siteId: site.id, paths, dryRun: options.dryRun, force: options.force, log });
    return { state: result.state, counts: result.counts, problems: result.problems };
  } catch (err) {
    // Site-wide failures (no manifest…) carry their fix; keep it in the report.
    return { problems: [{ site: site.id, message: (err as Error).message, fix: (err as { fix?: string }).fix }] };
  }
}
