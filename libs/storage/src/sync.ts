import * as path from 'node:path';
import { localResourceProblem, MANIFEST_KEY, refuseSymlinkBelow, SITE_FOLDERS, SymlinkError, type ConflictMode, type SiteConfig, type SiteFolder, type SitePaths } from '@podline/config';
import type { TaskProblem, TaskResult } from '@podline/report';
import { VerificationError, plainMd5 } from './atomic-stream';
import { StorageError, describeError, type RetryOptions } from './errors';
import { HashCache } from './hash-cache';
import { byKey, compareKeys, folderOf, isUnstorableError, podcastOf, unstorableReason } from './keys';
import { ListingCache } from './listing-cache';
import { openBackend, storageLabel, type OpenOptions } from './open';
import { decide, type Decision } from './plan';
import { runPool } from './pool';
import { Progress } from './progress';
import { digestListing } from './state';
import { resolveSyncOptions, type SyncOptions } from './options';
import type { Listing, ObjectEntry, StorageBackend, SyncLog } from './types';
import { INDEX_FOLDERS, isOwnedKey, POINTER_KEYS, reconcileManifest } from './owned';
import { removeStaleTemps, walkFolders } from './walk';

/** Where and for whom a sync runs (everything an executor already has). */
export interface SyncContext {
  site: SiteConfig;
  paths: SitePaths;
  workspaceRoot: string;
  log: SyncLog;
  env?: NodeJS.ProcessEnv;
  /** Credentials or provider for S3 (e.g. an assumed role); default: the SDK's default chain. */
  credentials?: OpenOptions['credentials'];
  /** A request idle this long fails and is retried (default 60 s). */
  requestTimeoutMs?: number;
  /** Backoff tuning (tests shorten it). `retries` comes from SyncOptions. */
  retry?: Omit<RetryOptions, 'retries'>;
}

/** A sync's result (report's one result type); no state in dry-run or when the run stopped. */
export type SyncOutcome = TaskResult;

export { INDEX_FOLDERS };

function resolveFolders(site: SiteConfig, requested: string[] | undefined, fallback: readonly SiteFolder[]): SiteFolder[] {
  if (!requested || requested.length === 0) return [...fallback];
  const unknown = requested.filter((f) => !(SITE_FOLDERS as readonly string[]).includes(f));
  if (unknown.length) {
    throw new StorageError('other', `site ${site.id}: unknown folder(s) ${unknown.map((f) => `"${f}"`).join(', ')}`, `use some of: ${SITE_FOLDERS.join(', ')}`);
  }
  return SITE_FOLDERS.filter((f) => requested.includes(f));
}

/** One site's sync run: the backend, both listings (the bucket's cached for the run), the local hashes. */
class Session {
  private constructor(
    readonly ctx: SyncContext,
    readonly options: Required<SyncOptions>,
    readonly backend: StorageBackend,
    readonly localHashes: HashCache,
    private readonly listingCache: ListingCache,
  ) {}

  /** Keys and links skipped with a warning this run (counted in the report, never problems). */
  readonly skipped = { symlinks: new Set<string>(), unstorable: new Set<string>() };

  /** A symbolic link met on either side: warned about once, never followed. */
  symlink(link: string): void {
    if (this.skipped.symlinks.has(link)) return;
    this.skipped.symlinks.add(link);
    this.ctx.log.warn(`${link} is a symbolic link: skipped, not followed (Podline never follows links in data folders and buckets); replace it with a real folder or file`);
  }

  /** A bucket key this machine cannot store as a file: warned about once, skipped; the site carries on. */
  unstorable(key: string, why: string, direction: 'download' | 'upload' = 'download'): void {
    if (this.skipped.unstorable.has(key)) return;
    this.skipped.unstorable.add(key);
    if (direction === 'download') this.ctx.log.warn(`bucket key ${JSON.stringify(key)} cannot be stored as a local file (${why}): skipped; rename it in the bucket if it should be here`);
    else this.ctx.log.warn(`${key} cannot be stored in ${this.backend.description} (${why}: a file and a folder of the same name): skipped; rename the one in the bucket`);
  }

  skipCounts(): Record<string, number> {
    const out: Record<string, number> = {};
    if (this.skipped.symlinks.size) out.symlinksSkipped = this.skipped.symlinks.size;
    if (this.skipped.unstorable.size) out.unstorableSkipped = this.skipped.unstorable.size;
    return out;
  }

  static async open(ctx: SyncContext, options: Required<SyncOptions>): Promise<Session | undefined> {
    const env = ctx.env ?? process.env;
    let session: Session | undefined;
    const backend = await openBackend(ctx.site, ctx.paths, {
      onSymlink: (link) => session?.symlink(link),
      workspaceRoot: ctx.workspaceRoot,
      env,
      credentials: ctx.credentials,
      multipartThresholdBytes: Math.round(options.multipartThresholdMB * 1024 * 1024),
      concurrency: options.concurrency,
      requestTimeoutMs: ctx.requestTimeoutMs,
      retry: {
        ...ctx.retry,
        retries: options.retries,
        onRetry: (err, attempt, delay) => ctx.log.warn(`retry ${attempt} in ${delay} ms after ${describeError(err)}`),
      },
    });
    if (!backend) return undefined;
    const cacheDir = ctx.paths.cacheDir();
    const localHashes = await HashCache.open(path.join(cacheDir, 'sync', 'local-hashes.json'));
    session = new Session(ctx, options, backend, localHashes, ListingCache.forSite(cacheDir, env.PODLINE_RUN_ID, backend.id));
    return session;
  }

  /** The bucket listing: this run's cached one when pre-sync/check already listed, else one full listing. */
  async bucketListing(): Promise<Listing> {
    const cached = await this.listingCache.load();
    if (cached) {
      this.ctx.log.debug(`reusing this run's listing of ${this.backend.description} (${cached.size} keys)`);
      return cached;
    }
    const listing = await this.backend.list();
    this.ctx.log.debug(`listed ${this.backend.description}: ${listing.size} keys`);
    await this.saveListing(listing);
    return listing;
  }

  async saveListing(listing: Listing): Promise<void> {
    if (!this.options.dryRun) await this.listingCache.save(listing);
  }

  localListing(folders: readonly SiteFolder[]): Promise<Listing> {
    return walkFolders(this.ctx.paths.root, folders, (link) => this.symlink(link));
  }

  /** Same content? true/false when known (size, then MD5 where the bucket's ETag is one), else undefined. */
  async same(local: ObjectEntry, bucket: ObjectEntry): Promise<boolean | undefined> {
    if (local.size !== bucket.size) return false;
    const md5 = plainMd5(bucket.etag);
    if (!md5) return undefined;
    return (await this.localHashes.md5(local, this.ctx.paths.file(local.key))) === md5;
  }

  async close(): Promise<void> {
    try {
      if (!this.options.dryRun) {
        await this.localHashes.save();
        await this.backend.flush?.();
      }
    } finally {
      this.backend.close();
    }
  }
}

function problemFor(site: SiteConfig, key: string, verb: string, err: unknown): TaskProblem {
  const fix =
    err instanceof StorageError
      ? err.fix
      : verb === 'download'
        ? 'run pre-sync again (nothing partial was kept); if it persists, check the object in the bucket'
        : 'run upload again (nothing partial is listed as done); if it persists, check the local file';
  const detail = err instanceof StorageError || err instanceof VerificationError ? err.message : describeError(err);
  return { site: site.id, podcast: podcastOf(key), file: key, message: `${verb} failed: ${detail}`, fix };
}

/** Runs `fn`; a StorageError that stops the run (credentials, bucket, service down) becomes the site's problem. */
async function guarded(ctx: SyncContext, options: SyncOptions, fn: (s: Session) => Promise<SyncOutcome>): Promise<SyncOutcome> {
  let session: Session | undefined;
  try {
    const resolved = resolveSyncOptions(ctx.site.id, options);
    session = await Session.open(ctx, resolved);
    if (!session) {
      ctx.log.info(`storage kind "none": nothing to sync for site ${ctx.site.id}`);
      return { state: resolved.dryRun ? undefined : { storage: { kind: 'none' } }, counts: {}, problems: [] };
    }
    const outcome = await fn(session);
    Object.assign(outcome.counts, session.skipCounts());
    // Requests this run sent to the bucket (a no-op re-sync is one listing page per 1,000 keys, or none).
    outcome.counts.requests = session.backend.requests;
    return outcome;
  } catch (err) {
    if (err instanceof StorageError) return { counts: {}, problems: [{ site: ctx.site.id, message: err.message, fix: err.fix }] };
    if (err instanceof SymlinkError) return { counts: {}, problems: [{ site: ctx.site.id, message: err.message, fix: err.fix }] };
    const local = localResourceProblem(err);
    if (local) return { counts: {}, problems: [{ site: ctx.site.id, message: local.message, fix: local.fix }] };
    throw err;
  } finally {
    await session?.close();
  }
}

interface Transfer {
  source: ObjectEntry;
  target?: ObjectEntry;
}

/** Sort candidates into transfers and skip counts by the conflict mode. */
async function plan(
  candidates: Array<{ source: ObjectEntry; target?: ObjectEntry; local: ObjectEntry; bucket?: ObjectEntry }>,
  mode: ConflictMode | ((key: string) => ConflictMode | 'owned'),
  session: Session,
): Promise<{ transfers: Transfer[]; skipped: Record<Decision, number> }> {
  const skipped: Record<Decision, number> = { transfer: 0, exists: 0, same: 0, 'not-newer': 0 };
  const transfers: Transfer[] = [];
  const modeOf = typeof mode === 'function' ? mode : () => mode;
  for (const c of candidates) {
    const d = await decide(c.source, c.target, modeOf(c.source.key), () => (c.bucket ? session.same(c.local, c.bucket) : Promise.resolve(undefined)));
    if (d === 'transfer') transfers.push({ source: c.source, target: c.target });
    else skipped[d]++;
  }
  return { transfers, skipped };
}

function skipCounts(skipped: Record<Decision, number>): Record<string, number> {
  const out: Record<string, number> = {};
  if (skipped.exists) out.skippedExisting = skipped.exists;
  if (skipped.same) out.identical = skipped.same;
  if (skipped['not-newer']) out.skippedNotNewer = skipped['not-newer'];
  return out;
}

/** Run transfers with bounded concurrency; per-file failures become problems, a StorageError stops the run. */
async function transferAll(
  session: Session,
  transfers: Transfer[],
  verb: 'download' | 'upload',
  one: (t: Transfer, onBytes: (n: number) => void) => Promise<void>,
  problems: TaskProblem[],
): Promise<{ files: number; bytes: number }> {
  const { ctx, options } = session;
  const progress = new Progress(ctx.log, verb === 'download' ? 'downloaded' : 'uploaded', transfers.length, bytesOf(transfers));
  const done = { files: 0, bytes: 0 };
  await runPool(transfers, options.concurrency, async (t) => {
    try {
      await one(t, progress.bytesDone);
      done.files++;
      done.bytes += t.source.size;
    } catch (err) {
      if (err instanceof StorageError) throw err;
      const local = localResourceProblem(err, verb === 'download' ? ctx.paths.file(t.source.key) : `${session.backend.description} (${t.source.key})`);
      // A full, read-only or forbidden disk is this machine's trouble, not the file's: stop the site, say where.
      if (local) throw new StorageError('other', `${verb} of ${t.source.key} stopped: ${local.message}`, local.fix, err);
      if (err instanceof SymlinkError) session.symlink(err.link);
      else if (isUnstorableError(err)) session.unstorable(t.source.key, (err as NodeJS.ErrnoException).code!, verb);
      else problems.push(problemFor(ctx.site, t.source.key, verb, err));
    }
    progress.fileDone();
  });
  return done;
}

function bytesOf(entries: Transfer[]): number {
  return entries.reduce((n, t) => n + t.source.size, 0);
}

/** Merge the bucket's manifest into the local one; a copy that cannot be used becomes the site's problem. */
async function mergeManifestFromBucket(session: Session, entry: ObjectEntry, problems: TaskProblem[]) {
  const { ctx } = session;
  try {
    const result = await reconcileManifest(session.backend, entry, ctx.paths, ctx.site.id);
    if (result.fromBucket) ctx.log.info(`${MANIFEST_KEY}: ${result.fromBucket} episode(s) merged in from the bucket's copy`);
    for (const c of result.clashes) ctx.log.warn(`${MANIFEST_KEY}: the bucket's episode ${c} was left out: its file key belongs to another episode here`);
    return result;
  } catch (err) {
    if (!(err instanceof StorageError)) throw err;
    problems.push({ site: ctx.site.id, file: MANIFEST_KEY, message: err.message, fix: err.fix });
    return undefined;
  }
}

/** pre-sync: download what the bucket has and this machine lacks (by default never overwriting). */
export function preSync(ctx: SyncContext, options: SyncOptions = {}): Promise<SyncOutcome> {
  return guarded(ctx, options, async (session) => {
    const options = session.options;
    const folders = resolveFolders(ctx.site, options.folders, SITE_FOLDERS);
    const mode = options.conflict;
    const counts: Record<string, number> = {};
    if (!options.dryRun) {
      const stale = await removeStaleTemps(ctx.paths.root, folders);
      if (stale) counts.staleTempsRemoved = stale;
    }
    const [bucket, local] = await Promise.all([session.bucketListing(), session.localListing(folders)]);
    // Both sides have a manifest: it is merged (below), whatever the conflict mode; else it is copied like any file.
    const bucketManifest = folders.includes('episode-manifest') ? bucket.get(MANIFEST_KEY) : undefined;
    const localManifest = local.get(MANIFEST_KEY);
    const merge = !!bucketManifest && !!localManifest && (await session.same(localManifest, bucketManifest)) !== true;
    const candidates = [...bucket.values()]
      .filter((e) => folders.includes(folderOf(e.key)!) && !(merge && e.key === MANIFEST_KEY))
      .filter((e) => {
        const why = unstorableReason(e.key);
        if (why) session.unstorable(e.key, why);
        return !why;
      })
      .sort(byKey)
      .map((b) => ({ source: b, target: local.get(b.key), local: local.get(b.key)!, bucket: b }));
    const { transfers, skipped } = await plan(candidates, mode, session);
    Object.assign(counts, skipCounts(skipped));
    const state = { storage: storageLabel(ctx.site), bucket: digestListing(bucket) };
    if (options.dryRun) {
      for (const t of transfers) ctx.log.info(`would download ${t.source.key} (${t.source.size} bytes)${t.target ? ' over the local file' : ''}`);
      if (merge) ctx.log.info(`would merge the bucket's ${MANIFEST_KEY} into the local one (it differs)`);
      return { counts: { ...counts, wouldDownload: transfers.length, wouldDownloadBytes: bytesOf(transfers), ...(merge && { wouldMergeManifest: 1 }) }, problems: [] };
    }
    const problems: TaskProblem[] = [];
    const done = await transferAll(session, transfers, 'download', async (t, onBytes) => {
      const file = ctx.paths.file(t.source.key);
      await refuseSymlinkBelow(ctx.paths.root, file);
      const got = await session.backend.download(t.source, file, onBytes);
      // The MD5 was computed on the way in: no need to hash the new file again (mtimes are compared rounded
      // to the ms, as utimes may land a hair below the value set).
      if (got.etag) session.localHashes.remember({ ...got, mtimeMs: Math.round(got.mtimeMs) }, got.etag);
    }, problems);
    if (merge) {
      // After the files: the episodes the bucket's manifest brings in find their audio and transcripts here.
      const merged = await mergeManifestFromBucket(session, bucketManifest!, problems);
      if (merged) counts.manifestEpisodesMerged = merged.fromBucket;
    }
    return { state, counts: { ...counts, downloaded: done.files, downloadedBytes: done.bytes }, problems };
  });
}

/** What pruneSite removes: keys of one folder that the caller's rule names. */
export interface PruneOptions {
  folder: SiteFolder;
  /** True for a key of `folder` to remove (e.g. the search page's versions older than the previous one). */
  obsolete: (key: string) => boolean;
  /** List what would be removed; remove nothing. */
  dryRun?: boolean;
}

/**
 * Remove from the bucket the keys of `folder` that `obsolete` names, and nothing else. The only deleting
 * operation of the storage engine: callers pass a rule that names only files Podline itself wrote.
 */
export function pruneSite(ctx: SyncContext, options: PruneOptions): Promise<SyncOutcome> {
  return guarded(ctx, { dryRun: options.dryRun }, async (session): Promise<SyncOutcome> => {
    const bucket = await session.bucketListing();
    const doomed = [...bucket.keys()].filter((key) => folderOf(key) === options.folder && options.obsolete(key)).sort(compareKeys);
    if (session.options.dryRun) {
      for (const key of doomed) ctx.log.info(`would remove ${key} from ${session.backend.description}`);
      const counts: Record<string, number> = doomed.length ? { wouldRemove: doomed.length } : {};
      return { counts, problems: [] };
    }
    const problems: TaskProblem[] = [];
    let removed = 0;
    try {
      for (const key of doomed) {
        try {
          await session.backend.remove(key);
          bucket.delete(key);
          removed++;
          ctx.log.debug(`removed ${key} from ${session.backend.description}`);
        } catch (err) {
          if (err instanceof StorageError) throw err;
          problems.push({ ...problemFor(ctx.site, key, 'delete', err), fix: 'run the target again; if it persists, check the object in the bucket' });
        }
      }
    } finally {
      if (removed) await session.saveListing(bucket);
    }
    const counts: Record<string, number> = removed ? { removed } : {};
    return { counts, problems };
  });
}

/** check: what is only local, only in the bucket, and on both sides but different, per folder. */
export function checkSite(ctx: SyncContext, options: SyncOptions = {}): Promise<SyncOutcome> {
  return guarded(ctx, options, async (session) => {
    const options = session.options;
    const folders = resolveFolders(ctx.site, options.folders, SITE_FOLDERS);
    const [bucket, local] = await Promise.all([session.bucketListing(), session.localListing(folders)]);
    const report: Record<string, { onlyLocal: string[]; onlyBucket: string[]; differing: Array<{ key: string; localSize: number; bucketSize: number; reason: string }> }> = {};
    const counts = { onlyLocal: 0, onlyBucket: 0, differing: 0, inSync: 0 };
    for (const folder of folders) report[folder] = { onlyLocal: [], onlyBucket: [], differing: [] };
    const keys = new Set([...local.keys(), ...[...bucket.keys()].filter((k) => folders.includes(folderOf(k)!))]);
    for (const key of [...keys].sort(compareKeys)) {
      const folder = report[folderOf(key)!];
      const l = local.get(key);
      const b = bucket.get(key);
      if (l && !b) folder.onlyLocal.push(key);
      else if (b && !l) folder.onlyBucket.push(key);
      else if (l && b) {
        const same = await session.same(l, b);
        if (same === false) folder.differing.push({ key, localSize: l.size, bucketSize: b.size, reason: l.size !== b.size ? 'size' : 'md5' });
        else counts.inSync++;
      }
    }
    for (const [name, f] of Object.entries(report)) {
      counts.onlyLocal += f.onlyLocal.length;
      counts.onlyBucket += f.onlyBucket.length;
      counts.differing += f.differing.length;
      if (f.onlyLocal.length || f.onlyBucket.length || f.differing.length) {
        ctx.log.info(`${name}: ${f.onlyLocal.length} only local, ${f.onlyBucket.length} only in the bucket, ${f.differing.length} differing`);
      }
      for (const d of f.differing) ctx.log.debug(`differs (${d.reason}): ${d.key} local ${d.localSize} bytes, bucket ${d.bucketSize} bytes`);
    }
    if (!counts.onlyLocal && !counts.onlyBucket && !counts.differing) ctx.log.info(`in step with ${session.backend.description}`);
    return { state: options.dryRun ? undefined : { storage: storageLabel(ctx.site), folders: report }, counts, problems: [] };
  });
}

/** The problem of a pointer key (POINTER_KEYS) not uploaded because files before it failed. */
function heldBack(siteId: string, t: Transfer, where: string): TaskProblem {
  const key = t.source.key;
  if (key === MANIFEST_KEY) {
    return { site: siteId, file: key, message: 'the episode manifest was held back because other uploads failed', fix: 'fix the failures above and run upload again' };
  }
  return {
    site: siteId,
    file: key,
    message: `${key} was held back because other uploads failed: ${
      t.target ? `${where} keeps its previous one, which names only files it has` : `${where} has none yet, so nothing there names a missing file`
    }`,
    fix: 'fix the failures above and run the same target again: the files that went up are not sent again, then this one follows',
  };
}

/** upload: push what the bucket lacks (or per the conflict mode), the keys that name other files (POINTER_KEYS) last. */
export function uploadSite(ctx: SyncContext, options: SyncOptions = {}): Promise<SyncOutcome> {
  return guarded(ctx, options, async (session) => {
    const options = session.options;
    // The search folders are ours to upload only when the index is built on this machine.
    const defaults = ctx.site.index?.kind === 'lambda' ? SITE_FOLDERS.filter((f) => !INDEX_FOLDERS.includes(f)) : SITE_FOLDERS;
    const folders = resolveFolders(ctx.site, options.folders, defaults);
    const mode = options.conflict;
    const counts: Record<string, number> = {};
    if (!options.dryRun && session.backend.removeStaleTemps) {
      const stale = await session.backend.removeStaleTemps();
      if (stale) counts.staleTempsRemovedInBucket = stale;
    }
    const [bucket, local] = await Promise.all([session.bucketListing(), session.localListing(folders)]);
    // Media keep the operator's conflict mode; the files Podline owns go up when the local copy is newer.
    // The manifest, when the bucket has a different one, is merged first (below): never replaced by ours.
    const bucketManifest = bucket.get(MANIFEST_KEY);
    const localManifest = local.get(MANIFEST_KEY);
    const merge = !!bucketManifest && !!localManifest && (await session.same(localManifest, bucketManifest)) !== true;
    const candidates = [...local.values()]
      .filter((l) => !(merge && l.key === MANIFEST_KEY))
      .sort(byKey)
      .map((l) => ({ source: l, target: bucket.get(l.key), local: l, bucket: bucket.get(l.key) }));
    const { transfers, skipped } = await plan(candidates, (key) => (isOwnedKey(key) ? 'owned' : mode), session);
    Object.assign(counts, skipCounts(skipped));
    if (options.dryRun) {
      for (const t of transfers) ctx.log.info(`would upload ${t.source.key} (${t.source.size} bytes)${t.target ? ' over the bucket object' : ''}`);
      if (merge) ctx.log.info(`would merge the bucket's ${MANIFEST_KEY} with the local one and upload the result if the bucket lacks episodes`);
      return { counts: { ...counts, wouldUpload: transfers.length, wouldUploadBytes: bytesOf(transfers), ...(merge && { wouldMergeManifest: 1 }) }, problems: [] };
    }
    // Two phases: every other file first, then the keys that name them (POINTER_KEYS, in that order).
    const isPointer = (t: Transfer) => POINTER_KEYS.includes(t.source.key);
    const pointers = transfers.filter(isPointer);
    const rest = transfers.filter((t) => !isPointer(t));
    const problems: TaskProblem[] = [];
    if (merge) {
      // Both sides' episodes in one manifest, here first; it goes up (last, as always) when the bucket lacks some.
      const merged = await mergeManifestFromBucket(session, bucketManifest!, problems);
      if (merged?.fromBucket) counts.manifestEpisodesMerged = merged.fromBucket;
      if (merged?.bucketBehind) {
        const entry = (await session.localListing(['episode-manifest'])).get(MANIFEST_KEY);
        if (entry) pointers.push({ source: entry, target: bucketManifest });
      } else if (merged) counts.identical = (counts.identical ?? 0) + 1;
    }
    pointers.sort((a, b) => POINTER_KEYS.indexOf(a.source.key) - POINTER_KEYS.indexOf(b.source.key));
    let changed = false;
    const put = async (t: Transfer, onBytes: (n: number) => void) => {
      const entry = await session.backend.upload(t.source, ctx.paths.file(t.source.key), onBytes);
      bucket.set(entry.key, entry);
      changed = true;
    };
    try {
      const before = problems.length;
      const done = await transferAll(session, rest, 'upload', put, problems);
      // Then the pointers, one at a time, each only when every upload before it made it: a reader never sees
      // one ahead of the files it names, and a failure leaves the bucket's previous copy in place.
      for (const t of pointers) {
        if (problems.length > before) {
          problems.push(heldBack(ctx.site.id, t, session.backend.description));
          continue;
        }
        const one = await transferAll(session, [t], 'upload', put, problems);
        done.files += one.files;
        done.bytes += one.bytes;
      }
      counts.uploaded = done.files;
      counts.uploadedBytes = done.bytes;
    } finally {
      if (changed) await session.saveListing(bucket);
    }
    const sourceFolders = SITE_FOLDERS.filter((f) => !INDEX_FOLDERS.includes(f));
    return { state: { storage: storageLabel(ctx.site), bucket: digestListing(bucket, sourceFolders) }, counts, problems };
  });
}
