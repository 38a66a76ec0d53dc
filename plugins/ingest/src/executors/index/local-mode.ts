import { existsSync } from 'node:fs';
import { fixOf } from '@podline/config';
import { buildSiteIndex } from '@podline/search-index';
import { keys } from '@podline/config';
import { INDEX_FOLDERS, uploadSite } from '@podline/storage';
import { publishSearchPage, WEB_FOLDER, type SiteJson } from '@podline/web';
import type { SiteTask, TaskOutcome } from '../common';
import { syncContext } from '../sync-context';
import type { Schema } from './schema';
import { publishedPageFiles, pruneBucketPage } from './web-page';

/**
 * Local mode: build the entries and the SQLite index in the site's data folder, then publish them to the
 * site's bucket. `upload` ran before the index was built and is cached until new content arrives, so the
 * index pushes its own products; they are not part of upload's state, so this does not re-trigger anything.
 */
export async function runLocal(task: SiteTask<Schema>): Promise<TaskOutcome> {
  const { site, paths, options, log } = task;
  if (options.dryRun && !existsSync(paths.manifestFile)) {
    // A dry run of the whole chain on a new site: rss only said what it would fetch, so there is nothing yet.
    log.info('would index the episodes rss finds: there is no episode manifest yet');
    return { counts: {} };
  }
  let built;
  try {
    built = await buildSiteIndex({ siteId: site.id, paths, dryRun: options.dryRun, force: options.force, log });
  } catch (err) {
    // Site-wide failures (no manifest…) carry their fix; keep it in the report.
    return { problems: [{ site: site.id, message: (err as Error).message, fix: fixOf(err) }] };
  }
  // The entry files and the index this state vouches for: a later run notices if the data folder loses them.
  const products = built.state && [...built.state.entries.map((e) => e.key), built.state.index.key];
  // The listeners' search page beside it (web/): rebuilt only when the index's content changed.
  let pageCounts: Record<string, number> = {};
  let siteJson: SiteJson | undefined;
  if (built.state) {
    try {
      const page = await publishSearchPage({
        site,
        sourceIndex: paths.file(keys.searchIndex()),
        sourceDigest: built.state.index.digest,
        webDir: paths.file(WEB_FOLDER),
        published: await publishedPageFiles(task),
        dryRun: options.dryRun,
      });
      if (page.written.length) log.info(`search page: ${options.dryRun ? 'would write' : 'wrote'} ${page.written.join(', ')}`);
      pageCounts = { ...(page.written.length && { pageFiles: page.written.length }), ...(page.rebuiltIndex && { webIndexRebuilt: 1 }) };
      products?.push(...page.files.map((f) => `${WEB_FOLDER}/${f}`));
      siteJson = page.siteJson;
    } catch (err) {
      return {
        state: built.state,
        counts: built.counts,
        problems: [...built.problems, { site: site.id, message: `the search page could not be built: ${(err as Error).message}`, fix: `run \`nx run ${site.id}:index --force\` to rebuild the index and the page` }],
      };
    }
  }
  built = { ...built, counts: { ...built.counts, ...pageCounts } };
  if (site.storage.kind === 'none') return { state: built.state, counts: built.counts, problems: built.problems, products };
  // The index is derived and was just rebuilt: a newer local copy replaces the bucket's.
  const published = await uploadSite(syncContext(task), { dryRun: options.dryRun, folders: [...INDEX_FOLDERS], conflict: 'overwrite-if-newer' });
  const { uploaded, uploadedBytes, wouldUpload } = published.counts;
  const counts = { ...built.counts, ...(uploaded && { published: uploaded, publishedBytes: uploadedBytes ?? 0 }), ...(wouldUpload && { wouldPublish: wouldUpload }) };
  const problems = [...built.problems, ...published.problems];
  // The page's versions older than the previous one leave the bucket, once the current one is there.
  if (siteJson && !published.problems.length) {
    const pruned = await pruneBucketPage(task, siteJson, options.dryRun);
    Object.assign(counts, pruned.counts);
    problems.push(...pruned.problems);
  }
  return { state: built.state, counts, problems, products };
}
