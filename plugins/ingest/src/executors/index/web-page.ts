import { existsSync, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { ifExists, keys, sha256File, writeJsonAtomic } from '@podline/config';
import type { TaskProblem } from '@podline/report';
import { preSync, pruneSite, uploadSite } from '@podline/storage';
import { obsoleteWebKey, publishSearchPage, WEB_FOLDER, type SiteJson } from '@podline/web';
import type { SiteTask } from '../common';
import { syncContext } from '../sync-context';

export interface PageOutcome {
  counts: Record<string, number>;
  problems: TaskProblem[];
}

/** Where this machine notes the files of the page version whose site.json it last saw go up to the bucket. */
const publishedFile = <O>(task: SiteTask<O>) => path.join(task.paths.cacheDir(), 'web-published.json');

/**
 * The files of the page version the bucket's readers have now, as far as this machine knows (publishSearchPage's
 * `published`): after an upload that held site.json back, that is not the local previous version. Unknown
 * (no bucket, or never published from here): undefined.
 */
export async function publishedPageFiles<O>(task: SiteTask<O>): Promise<string[] | undefined> {
  if (task.site.storage.kind === 'none') return undefined;
  const text = await ifExists(fsp.readFile(publishedFile(task), 'utf8'));
  try {
    const files = text ? (JSON.parse(text) as { files?: unknown }).files : undefined;
    return Array.isArray(files) && files.every((f) => typeof f === 'string') ? files : undefined;
  } catch {
    return undefined;
  }
}

/**
 * After an upload of web/ with no problem (so site.json went up or the bucket had it already): note its files.
 * Written only then, so a failed or killed upload leaves the note naming the version still live (or an older
 * one, which only keeps more files).
 */
async function notePublished<O>(task: SiteTask<O>, siteJson: SiteJson): Promise<void> {
  await writeJsonAtomic(publishedFile(task), { files: siteJson.files ?? [] });
}

/**
 * Called once the current version is complete in the bucket: note it as the live one, then remove from the
 * bucket the page's versioned files (web/index-<hash>.sqlite, web/assets/…-<hash>.*) that neither the current
 * site.json nor the version(s) it keeps (`previous`) use. Only those names, only under web/.
 */
export async function pruneBucketPage<O>(task: SiteTask<O>, siteJson: SiteJson, dryRun: boolean | undefined): Promise<PageOutcome> {
  if (task.site.storage.kind === 'none') return { counts: {}, problems: [] };
  if (!dryRun) await notePublished(task, siteJson);
  const pruned = await pruneSite(syncContext(task), { folder: WEB_FOLDER, obsolete: obsoleteWebKey(siteJson), dryRun });
  const { removed, wouldRemove } = pruned.counts;
  if (removed) task.log.info(`search page: removed ${removed} file(s) of older versions from the bucket`);
  return { counts: { ...(removed && { pageFilesRemoved: removed }), ...(wouldRemove && { wouldRemovePageFiles: wouldRemove }) }, problems: pruned.problems };
}

/**
 * The search page of a site whose index the Lambda builds: fetch the index the function left in the bucket
 * (search-index/index.sqlite, when the bucket's copy is newer), build the page and its web index from it
 * here, the same way local mode does, upload web/ and prune old versions. The web index is rebuilt only when
 * that file changed.
 */
export async function publishPageFromBucket<O>(task: SiteTask<O>): Promise<PageOutcome> {
  const { site, paths, log } = task;
  const ctx = syncContext(task);
  // The function's index is the one that counts (whenever its content differs), from a fresh listing: the
  // function wrote it after this run's earlier targets listed the bucket.
  const fetched = await preSync({ ...ctx, env: { ...(ctx.env ?? process.env), PODLINE_RUN_ID: '' } }, { folders: ['search-index'], conflict: 'overwrite-always' });
  if (fetched.problems.length) return { counts: {}, problems: fetched.problems };
  const sourceIndex = paths.file(keys.searchIndex());
  if (!existsSync(sourceIndex)) {
    log.info(`search page: the bucket has no ${keys.searchIndex()} yet (the indexing function writes it); the page follows once it does`);
    return { counts: {}, problems: [] };
  }
  let page;
  try {
    page = await publishSearchPage({ site, sourceIndex, sourceDigest: await sha256File(sourceIndex), webDir: paths.file(WEB_FOLDER), published: await publishedPageFiles(task) });
  } catch (err) {
    return {
      counts: {},
      problems: [{ site: site.id, file: keys.searchIndex(), message: `the search page could not be built from the bucket's index: ${(err as Error).message}`, fix: `check the function's last run, then run \`nx run ${site.id}:index --force\`` }],
    };
  }
  if (page.written.length) log.info(`search page: wrote ${page.written.join(', ')}`);
  const uploaded = await uploadSite(ctx, { folders: [WEB_FOLDER], conflict: 'overwrite-if-newer' });
  const counts: Record<string, number> = {
    ...(page.written.length && { pageFiles: page.written.length }),
    ...(page.rebuiltIndex && { webIndexRebuilt: 1 }),
    ...(uploaded.counts.uploaded && { published: uploaded.counts.uploaded, publishedBytes: uploaded.counts.uploadedBytes ?? 0 }),
  };
  // Old versions go only once the current one is complete in the bucket.
  if (uploaded.problems.length) return { counts, problems: uploaded.problems };
  const pruned = await pruneBucketPage(task, page.siteJson, false);
  return { counts: { ...counts, ...pruned.counts }, problems: pruned.problems };
}
