import { promises as fsp } from 'node:fs';
import {
  DEFAULT_MAX_AUDIO_MB,
  mapLimit,
  readManifest,
  keys,
  localResourceProblem,
  maskSecretsIn,
  resolveFeedUrl,
  stripControl,
  writeFileAtomic,
  writeJsonAtomic,
  type EpisodeManifest,
  type EpisodeRecord,
  type Log,
  type PodcastConfig,
  type SiteConfig,
  type SitePaths,
} from '@podline/config';
import type { TaskProblem, TaskResult } from '@podline/report';
import { looksLikeAudio, looksLikeVideo } from './audio';
import { downloadAudio, hashFile, NotAudioError, TooLargeError } from './download';
import { fetchFeed, type FeedValidators } from './feed-fetch';
import { DeadlineError, FetchError, isTimeout } from './http';
import { episodeIdentity } from './identity';
import { emptyManifest, mergeFeed, sortRecords } from './merge';
import { decodeFeed, FeedParseError, parseFeedXml } from './parse';
import { resolveRssOptions, type RssOptions } from './options';
import { DEFAULT_RETRY, type RetryPolicy } from './retry';
import { untrustedUrlPolicy } from './url-policy';
import { rssState, type RssState } from './state';

export type { RssOptions } from './options';

/** A host whose downloads timed out this many times in one run gets no more of this run's downloads. */
const HOST_TIMEOUTS_BEFORE_PAUSE = 2;

/** What the rss step logs to: config's one `Log`. */
export type RssLogger = Log;

/** The rss step's result (report's one result type, no state in a dry run), with the manifest it left. */
export interface RssResult extends TaskResult<RssState> {
  manifest: EpisodeManifest;
}

/** How often the manifest is saved while downloads run (a crash in between is recovered by adopting the files). */
const SAVE_EVERY_MS = 2000;

/** An episode for messages; the manifest may come from a bucket, so its texts are cleaned before printing. */
function describe(r: Pick<EpisodeRecord, 'title' | 'id'>): string {
  const id = stripControl(String(r.id), true);
  return r.title ? `"${stripControl(String(r.title), true)}" (${id})` : id;
}

/** File keys and podcast ids that are safe as one path segment (what makeFileKey and the config produce). */
const SAFE_SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
function unsafeRecord(r: EpisodeRecord): boolean {
  return typeof r.fileKey !== 'string' || typeof r.podcast !== 'string' || !SAFE_SEGMENT.test(r.fileKey) || r.fileKey.includes('..') || !SAFE_SEGMENT.test(r.podcast);
}

const VIDEO_EXT_BY_TYPE: Record<string, string> = { 'video/mp4': 'mp4', 'video/quicktime': 'mov', 'video/x-m4v': 'm4v', 'video/webm': 'webm', 'video/x-matroska': 'mkv' };

/** The extension a video episode keeps: from its type, else its URL, else mp4. */
function videoExtension(r: EpisodeRecord): string {
  const byType = VIDEO_EXT_BY_TYPE[(r.audioType ?? '').toLowerCase()];
  if (byType) return byType;
  const m = /\.(mp4|m4v|mov|webm|mkv)(?:[?#]|$)/i.exec(r.audioUrl ?? '');
  return m ? m[1].toLowerCase() : 'mp4';
}

function isVideoRecord(r: EpisodeRecord): boolean {
  return /^video\//i.test(r.audioType ?? '') || (!/^audio\//i.test(r.audioType ?? '') && /\.(mp4|m4v|mov|webm|mkv)(?:[?#]|$)/i.test(r.audioUrl ?? ''));
}

function feedFix(err: unknown): string {
  if (err instanceof FeedParseError) return 'the URL does not serve a podcast feed: check podcasts[].feedUrl in site.config.json, or tell the publisher; the previous manifest is kept';
  if (err instanceof FetchError) {
    if (err.options.code === 'ETOOBIG') return 'raise --maxFeedMB of the rss target if the feed is genuine; the previous manifest is kept';
    if (err.status === 404 || err.status === 410) return 'the feed is gone or moved: correct podcasts[].feedUrl in site.config.json, or set "active": false';
    if (err.status === 401 || err.status === 403) return 'the feed server refuses us: check the URL; a private feed needs its token, named in the URL as ${secret:NAME} and set in the environment or .env.secrets';
    if (/redirect/.test(err.message)) return 'the feed server redirects in a circle or too often: check podcasts[].feedUrl, or tell the publisher';
    if (err.retryable) return 'the feed server is failing or slow; it is tried again on the next run';
  }
  return 'check podcasts[].feedUrl in site.config.json; it is tried again on the next run';
}

/** What to do about a failed download; `givingUp`: this was its last automatic try. */
function downloadFix(err: unknown, podcast: string, givingUp: boolean): string {
  const next = givingUp ? 'later runs skip it; once fixed, run rss with --retryFailed' : 'it is tried again on the next run';
  if (typeof (err as { fix?: unknown }).fix === 'string') return `${(err as { fix: string }).fix}; ${next}`;
  if (err instanceof NotAudioError && err.video) return `the enclosure is a video: to transcribe its audio set "includeVideo": true on podcast ${podcast} in site.config.json; ${next}`;
  if (err instanceof NotAudioError) return `the enclosure URL does not serve audio: tell the publisher; ${next}`;
  if (err instanceof TooLargeError) return `raise "maxAudioMB" of podcast ${podcast} in site.config.json if the file is genuine; ${next}`;
  if (err instanceof FetchError && err.status && err.status >= 400 && err.status < 500 && err.status !== 429) {
    return `the enclosure URL is broken: tell the publisher; ${next}`;
  }
  if (isTimeout(err)) return `the enclosure host is not sending data; ${next}`;
  return `network or server trouble; ${next}`;
}

/**
 * An enclosure URL as the feed wrote it, made absolute against the feed's URL. What it may reach (a `file:`
 * enclosure only in a `file:` feed, no private hosts) is the download's URL policy.
 */
function resolveMediaUrl(raw: string, feedUrl: string): string {
  return new URL(raw, feedUrl).href;
}

/** The start of the site's `downloads.lastDays` window, counted from now. */
function lastDaysSince(days: number | undefined): number | undefined {
  return days && days > 0 ? Date.now() - days * 86_400_000 : undefined;
}

function parseSince(since: string | undefined): number | undefined {
  if (!since) return undefined;
  const t = Date.parse(since);
  if (Number.isNaN(t)) throw new Error(`--since "${since}" is not a date; use YYYY-MM-DD`);
  return t;
}

/** Episodes to have audio for: per podcast, newest first, on/after `since`, at most `maxEpisodes`. */
function selectWanted(records: readonly EpisodeRecord[], podcasts: ReadonlySet<string>, opts: { maxEpisodes?: number; since?: number }): EpisodeRecord[] {
  const byPodcast = new Map<string, EpisodeRecord[]>();
  for (const r of records) {
    if (!podcasts.has(r.podcast) || !r.audioUrl || r.status === 'no-audio' || r.status === 'video') continue;
    if (opts.since !== undefined && (!r.published || Date.parse(r.published) < opts.since)) continue;
    const list = byPodcast.get(r.podcast) ?? [];
    list.push(r);
    byPodcast.set(r.podcast, list);
  }
  const out: EpisodeRecord[] = [];
  for (const list of byPodcast.values()) {
    list.sort(newestFirst);
    out.push(...(opts.maxEpisodes && opts.maxEpisodes > 0 ? list.slice(0, opts.maxEpisodes) : list));
  }
  return out;
}

async function readValidators(file: string): Promise<FeedValidators | undefined> {
  try {
    return JSON.parse(await fsp.readFile(file, 'utf8')) as FeedValidators;
  } catch {
    return undefined;
  }
}

async function exists(file: string): Promise<boolean> {
  return fsp.stat(file).then(
    (s) => s.isFile(),
    () => false,
  );
}

/** Counts worth printing: the always-meaningful ones, and the rest when they happened. */
function nonZero(counts: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).filter(([k, v]) => v !== 0 || k === 'feeds' || k === 'requests'));
}

function formatBytes(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${Math.round(n / 1e3)} kB`;
}

/** Where a feed is read from: the configured URL, or where it said it moved (until the config is updated). */
function effectiveFeedUrl(configured: string, validators: FeedValidators | undefined): { url: string; moved: boolean } {
  if (validators?.movedTo && validators.configuredUrl === configured) return { url: validators.movedTo, moved: true };
  return { url: configured, moved: false };
}

/** A new feed address from the feed itself: only http(s), only a different one. */
function newAddress(raw: string | undefined, current: string): string | undefined {
  if (!raw) return undefined;
  try {
    const url = new URL(raw, current);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.href !== current ? url.href : undefined;
  } catch {
    return undefined;
  }
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/**
 * The `rss` step for one site: read every active feed (conditionally), fold it into the episode manifest,
 * download the audio still missing, and return the deterministic state plus what happened.
 * Per-feed and per-episode failures become problems; everything else still gets done. The step ends within its
 * deadline: what is left then is reported as deferred and tried on the next run.
 */
export async function runRss(site: SiteConfig, paths: SitePaths, given: RssOptions, log: RssLogger): Promise<RssResult> {
  const options = resolveRssOptions(given);
  const deadlineMs = options.deadlineSeconds * 1000;
  const stop = new AbortController();
  const stopTimer = setTimeout(() => stop.abort(), deadlineMs);
  stopTimer.unref();
  const run: Run = {
    site,
    paths,
    options,
    log,
    dryRun: options.dryRun,
    concurrency: Math.max(1, options.concurrency),
    timeoutMs: options.timeoutSeconds * 1000,
    feedDeadlineMs: options.feedDeadlineSeconds * 1000,
    maxFeedBytes: options.maxFeedMB * 1e6,
    maxFailedRuns: options.maxFailedRuns,
    since: parseSince(options.since) ?? lastDaysSince(site.downloads?.lastDays),
    newest: options.maxEpisodes > 0 ? options.maxEpisodes : (site.downloads?.newest ?? 0),
    maxPerRun: site.downloads?.maxPerRun ?? 0,
    deadlineMs,
    stop: stop.signal,
    retry: { ...DEFAULT_RETRY, retries: options.retries, baseMs: options.retryBaseMs, signal: stop.signal },
    counts: { feeds: 0, unchanged: 0, requests: 0, new: 0, noAudio: 0, video: 0, duplicates: 0, downloaded: 0, adopted: 0, failed: 0, givenUp: 0, deferred: 0, bytes: 0 },
    problems: [],
  };
  try {
    return await runRssUntil(run);
  } finally {
    clearTimeout(stopTimer);
  }
}

/** One site's rss run: its settings, and what it did so far. */
interface Run {
  site: SiteConfig;
  paths: SitePaths;
  options: Required<RssOptions>;
  log: RssLogger;
  dryRun: boolean;
  concurrency: number;
  timeoutMs: number;
  feedDeadlineMs: number;
  maxFeedBytes: number;
  maxFailedRuns: number;
  since?: number;
  /** The N newest of each podcast (0: all): --maxEpisodes, else the site's downloads.newest. */
  newest: number;
  /** Downloads per run (0: no cap): the site's downloads.maxPerRun. */
  maxPerRun: number;
  deadlineMs: number;
  stop: AbortSignal;
  retry: RetryPolicy;
  counts: Record<string, number>;
  problems: TaskProblem[];
}

/** The manifest as it was: its usable records by podcast, and those left exactly as they were. */
interface Records {
  previous: EpisodeManifest;
  haveManifest: boolean;
  byPodcast: Map<string, EpisodeRecord[]>;
  unsafe: Set<EpisodeRecord>;
}

/** What step 1 found: where each feed was read, and what to write for it. */
interface FeedsRead {
  urls: Map<string, string>;
  writes: Array<{ podcast: string; body?: Buffer; validators: FeedValidators }>;
}

/** Step 2's working set: the manifest being updated, and the hosts that keep timing out. */
interface Downloads {
  manifest: EpisodeManifest;
  index: Map<EpisodeRecord, number>;
  dirty: boolean;
  podcastsById: Map<string, PodcastConfig>;
  feedUrls: Map<string, string>;
  hostTimeouts: Map<string, number>;
  pausedHosts: Map<string, number>;
  done: number;
  total: number;
  saving: Promise<unknown>;
  lastSave: number;
  /** Per podcast, the enclosure URLs of a fresh read of its feed (by episode id), once a stored one expired. */
  fresh: Map<string, Promise<Map<string, string>>>;
  /** This machine's own trouble (disk full, no permission): downloading stops, no episode is blamed. */
  stopped?: { key: string; message: string; fix: string };
}

async function runRssUntil(run: Run): Promise<RssResult> {
  const { site, paths, dryRun, counts, problems } = run;
  const records = await readRecords(run);

  // 1. Feeds: fetch (conditionally), parse, merge. A failing feed leaves its podcast's records as they were.
  const active = site.podcasts.filter((p) => p.active);
  const feeds: FeedsRead = { urls: new Map(), writes: [] };
  await mapLimit(active, run.concurrency, (podcast) => readOneFeed(run, records, feeds, podcast));

  // Records that could not be used stay in the manifest exactly as they were.
  const manifest: EpisodeManifest = { version: 1, site: site.id, episodes: sortRecords([...[...records.byPodcast.values()].flat(), ...records.unsafe]) };
  // Nothing parsed and nothing downloaded: the manifest is not even re-serialised (the cheap hourly no-op).
  const dirty = feeds.writes.some((w) => w.body) || !records.previous.episodes.length;
  // Raw feeds and the manifest first, the validators last: a crash in between means a full fetch next time.
  if (!dryRun) {
    for (const w of feeds.writes) if (w.body) await writeFileAtomic(paths.rssFile(w.podcast), w.body);
    if (dirty) await writeJsonAtomic(paths.manifestFile, manifest);
    for (const w of feeds.writes) await writeJsonAtomic(paths.feedCacheFile(w.podcast), w.validators);
  }

  // 2. Audio: the wanted episodes we do not have yet (or whose file vanished), adopting verified files already here.
  const dl: Downloads = {
    manifest,
    index: new Map(manifest.episodes.map((r, i) => [r, i] as const)),
    dirty,
    podcastsById: new Map(active.map((p) => [p.id, p] as const)),
    feedUrls: feeds.urls,
    hostTimeouts: new Map(),
    pausedHosts: new Map(),
    done: 0,
    total: 0,
    saving: Promise.resolve(),
    lastSave: Date.now(),
    fresh: new Map(),
  };
  const todo = await selectDownloads(run, dl, records.unsafe);
  if (dryRun) {
    for (const r of todo) run.log.info(`(dry run) would download ${mediaKey(dl, r)} from ${r.audioUrl}`);
    counts.wouldDownload = todo.length;
    return { manifest, counts: nonZero(counts), problems };
  }
  dl.total = todo.length;
  await mapLimit(todo, run.concurrency, (r) => downloadOne(run, dl, r));
  await dl.saving;
  if (dl.stopped) {
    const left = todo.length - counts.downloaded - counts.failed - counts.deferred;
    problems.push({ site: site.id, file: dl.stopped.key, message: `downloads stopped: ${dl.stopped.message}; ${left} episode(s) not downloaded (not counted against them)`, fix: dl.stopped.fix });
  }
  for (const [host, n] of dl.pausedHosts) {
    run.log.warn(`${host} timed out ${HOST_TIMEOUTS_BEFORE_PAUSE} times: its other ${n} download(s) are left for the next run`);
  }
  if (run.stop.aborted && counts.deferred) {
    run.log.warn(`the run reached its deadline (${Math.round(run.deadlineMs / 1000)} s, --deadlineSeconds): ${counts.deferred} download(s) are left for the next run`);
  }
  if (dl.dirty) await writeJsonAtomic(paths.manifestFile, manifest);
  return { state: rssState(manifest), manifest, counts: nonZero(counts), problems };
}

/** The manifest as it is; a record whose file key is not a plain file name is kept aside, untouched. */
async function readRecords(run: Run): Promise<Records> {
  const { site, paths, log, counts } = run;
  const stored = await readManifest(paths.manifestFile, site.id);
  const previous = stored ?? emptyManifest(site.id);
  const byPodcast = new Map<string, EpisodeRecord[]>();
  const unsafe = new Set<EpisodeRecord>();
  for (const r of previous.episodes) {
    if (unsafeRecord(r)) {
      unsafe.add(r);
      log.warn(
        `${paths.manifestFile}: skipped the record ${describe(r)} of podcast ${stripControl(String(r.podcast), true)}: its file key ${JSON.stringify(stripControl(String(r.fileKey), true))} is not a plain file name. ` +
          'Fix: remove that record from the manifest (and from the bucket\'s copy, episode-manifest/full-episode-manifest.json), then run rss again to re-create it from the feed',
      );
      continue;
    }
    const list = byPodcast.get(r.podcast);
    if (list) list.push(r);
    else byPodcast.set(r.podcast, [r]);
  }
  if (unsafe.size) counts.unsafeRecords = unsafe.size;
  return { previous, haveManifest: stored !== undefined, byPodcast, unsafe };
}

/** Step 1 for one podcast: its feed, fetched (conditionally), parsed and merged into its records. */
async function readOneFeed(run: Run, records: Records, feeds: FeedsRead, podcast: SiteConfig['podcasts'][number]): Promise<void> {
  const { site, paths, log, counts, stop } = run;
  const configured = resolveFeedUrl(site, podcast.feedUrl);
  counts.feeds++;
  let url = configured;
  try {
    if (stop.aborted) throw new DeadlineError();
    const known = await readValidators(paths.feedCacheFile(podcast.id));
    const where = effectiveFeedUrl(configured, known);
    url = where.url;
    feeds.urls.set(podcast.id, url);
    if (where.moved) log.warn(`podcast ${podcast.id}: reading the feed from ${url}, where it moved (site.config.json still says ${podcast.feedUrl}); fix: set podcasts[].feedUrl of "${podcast.id}" to ${url}`);
    // Conditional only when what the validators vouch for is still here.
    const haveLocal = records.haveManifest && (await exists(paths.rssFile(podcast.id)));
    const fetched = await fetchFeed(url, haveLocal ? known : undefined, {
      timeoutMs: run.timeoutMs,
      feedDeadlineMs: run.feedDeadlineMs,
      maxBytes: run.maxFeedBytes,
      signal: stop,
      retry: run.retry,
      onRequest: () => counts.requests++,
      policy: untrustedUrlPolicy(site, url),
      onRetry: (err, attempt, wait) => log.warn(`podcast ${podcast.id}: feed attempt ${attempt + 1} failed (${(err as Error).message}); retrying in ${Math.round(wait)} ms`),
    });
    const remember = (movedTo: string | undefined, how: string) => {
      if (!movedTo || movedTo === url) return where.moved ? url : undefined;
      log.warn(`podcast ${podcast.id}: the feed moved to ${movedTo} (${how}); later runs read it there. Fix: set podcasts[].feedUrl of "${podcast.id}" in site.config.json to ${movedTo}`);
      return movedTo;
    };
    if (!fetched.changed) {
      counts.unchanged++;
      log.debug(`podcast ${podcast.id}: feed unchanged`);
      const movedTo = remember(fetched.permanentUrl, 'permanent redirect');
      const base = fetched.validators ?? (known?.url === url ? known : undefined);
      if (base) feeds.writes.push({ podcast: podcast.id, validators: { ...base, configuredUrl: configured, movedTo } });
      return;
    }
    // A private feed's token in its own links (enclosures, transcripts) is stored masked, as `${secret:NAME}`.
    const body = maskSecretsIn(fetched.body);
    const feed = await parseFeedXml(decodeFeed(body, fetched.contentType));
    for (const w of feed.warnings) log.warn(`podcast ${podcast.id}: feed ${url}, ${w}`);
    const announced = newAddress(feed.newFeedUrl, url);
    const movedTo = fetched.permanentUrl ? remember(fetched.permanentUrl, 'permanent redirect') : remember(announced, 'itunes:new-feed-url');
    const merged = mergeFeed(podcast.id, records.byPodcast.get(podcast.id) ?? [], feed.items, { includeVideo: podcast.includeVideo });
    for (const n of merged.notices) log.warn(`podcast ${n.podcast}, episode ${n.episode} ${n.message}`);
    counts.new += merged.added;
    counts.noAudio += merged.noAudio;
    counts.video += merged.video;
    counts.duplicates += merged.duplicates;
    records.byPodcast.set(podcast.id, merged.records);
    feeds.writes.push({ podcast: podcast.id, body, validators: { ...fetched.validators, configuredUrl: configured, movedTo } });
    log.info(`podcast ${podcast.id}: ${feed.items.length} items, ${merged.added} new`);
  } catch (err) {
    const message = err instanceof DeadlineError ? `not read: the run reached its deadline (${Math.round(run.deadlineMs / 1000)} s)` : `feed ${url}: ${(err as Error).message}`;
    run.problems.push({ site: site.id, podcast: podcast.id, file: keys.rss(podcast.id), message, fix: err instanceof DeadlineError ? 'it is read on the next run' : feedFix(err) });
  }
}

/** Where an episode's media goes (video keeps its own extension when its podcast includes video). */
function mediaKey(dl: Downloads, r: EpisodeRecord): string {
  return dl.podcastsById.get(r.podcast)?.includeVideo && isVideoRecord(r) ? keys.audio(r.podcast, r.fileKey, videoExtension(r)) : keys.audio(r.podcast, r.fileKey);
}

function update(dl: Downloads, r: EpisodeRecord, next: EpisodeRecord): void {
  dl.manifest.episodes[dl.index.get(r)!] = next;
  dl.dirty = true;
}

/** Step 2, select work: the wanted episodes still to download; verified files already here are adopted. */
async function selectDownloads(run: Run, dl: Downloads, unsafe: Set<EpisodeRecord>): Promise<EpisodeRecord[]> {
  const { paths, options, log, counts, dryRun, maxFailedRuns } = run;
  const wanted = selectWanted(
    dl.manifest.episodes.filter((r) => !unsafe.has(r)),
    new Set(dl.podcastsById.keys()),
    { maxEpisodes: run.newest, since: run.since },
  );
  const todo: EpisodeRecord[] = [];
  for (const r of wanted) {
    const key = mediaKey(dl, r);
    const file = paths.file(key);
    const stat = await fsp.stat(file).catch(() => undefined);
    if (r.status === 'downloaded' && r.audio && stat?.size === r.audio.size) continue;
    if (r.status === 'failed' && maxFailedRuns > 0 && (r.failedRuns ?? 0) >= maxFailedRuns && !options.retryFailed) {
      counts.givenUp++;
      log.debug(`podcast ${r.podcast}: skipping ${describe(r)}, given up after ${r.failedRuns} failed runs (${r.error})`);
      continue;
    }
    if (stat?.isFile() && !dryRun) {
      const local = await hashFile(file);
      const wantsVideo = !!dl.podcastsById.get(r.podcast)?.includeVideo && isVideoRecord(r);
      const usable = looksLikeVideo(local.head) ? wantsVideo : looksLikeAudio(local.head);
      const matches = r.audio ? r.audio.size === local.size && r.audio.sha256 === local.sha256 : local.size > 0 && usable;
      if (matches) {
        update(dl, r, { ...r, audio: { key, size: local.size, sha256: local.sha256 }, status: 'downloaded', error: undefined });
        counts.adopted++;
        log.info(`podcast ${r.podcast}: adopted ${key} (already here, verified)`);
        continue;
      }
      log.warn(`podcast ${r.podcast}: ${key} exists but does not match; downloading it again`);
    }
    todo.push(r);
  }
  return capDownloads(run, todo);
}

/**
 * A bounded slice (the site's downloads.maxPerRun): the newest episodes of all podcasts first; the rest are
 * pending, not failed, and come first in the next runs' slices.
 */
function capDownloads(run: Run, todo: EpisodeRecord[]): EpisodeRecord[] {
  if (!run.maxPerRun || todo.length <= run.maxPerRun) return todo;
  const slice = [...todo].sort(newestFirst).slice(0, run.maxPerRun);
  run.counts.pending = todo.length - slice.length;
  run.log.info(`downloading the newest ${slice.length} of ${todo.length} episodes (downloads.maxPerRun); ${run.counts.pending} wait for the next runs`);
  return slice;
}

/** Newest first; undated last; the file key breaks ties so the choice is deterministic. */
function newestFirst(a: EpisodeRecord, b: EpisodeRecord): number {
  return (b.published ?? '').localeCompare(a.published ?? '') || a.fileKey.localeCompare(b.fileKey);
}

/** Step 2, do one: download an episode's media; a failure is recorded on the episode (a deadline is not its fault). */
async function downloadOne(run: Run, dl: Downloads, r: EpisodeRecord): Promise<void> {
  const { site, paths, options, log, counts, stop, maxFailedRuns } = run;
  if (dl.stopped) return;
  const key = mediaKey(dl, r);
  const tag = () => `[${dl.done + 1}/${dl.total}] ${key}`;
  const podcast = dl.podcastsById.get(r.podcast);
  let host = '';
  try {
    const feedUrl = dl.feedUrls.get(r.podcast) ?? resolveFeedUrl(site, podcast!.feedUrl);
    const url = resolveMediaUrl(r.audioUrl!, feedUrl);
    host = hostOf(url);
    if (stop.aborted) throw new DeadlineError();
    // A host that keeps timing out gets no more of this run's downloads: they wait for the next run.
    if ((dl.hostTimeouts.get(host) ?? 0) >= HOST_TIMEOUTS_BEFORE_PAUSE) {
      counts.deferred++;
      dl.pausedHosts.set(host, (dl.pausedHosts.get(host) ?? 0) + 1);
      return;
    }
    let lastShown = 0;
    const download = (from: string) => downloadAudio(from, paths.file(key), {
      timeoutMs: run.timeoutMs,
      retry: run.retry,
      signal: stop,
      feedLength: r.audioLength,
      policy: untrustedUrlPolicy(site, feedUrl),
      maxBytes: (podcast?.maxAudioMB ?? DEFAULT_MAX_AUDIO_MB) * 1e6,
      video: !!podcast?.includeVideo && isVideoRecord(r),
      onProgress: (received, total) => {
        const interval = options.progressIntervalMs;
        if (!interval || Date.now() - lastShown < interval) return;
        lastShown = Date.now();
        log.progress(`${tag()} ${formatBytes(received)}${total ? ` of ${formatBytes(total)} (${Math.floor((received / total) * 100)}%)` : ''}`);
      },
      onRetry: (err, attempt, wait) => log.warn(`${key}: attempt ${attempt + 1} failed (${(err as Error).message}); retrying in ${Math.round(wait)} ms`),
    });
    let got;
    let audioUrl = r.audioUrl;
    try {
      got = await download(url);
    } catch (err) {
      // A signed enclosure URL that expired since the feed was read: the feed, read again now, gives a fresh one.
      const renewed = expiredEnclosure(err) ? await freshEnclosure(run, dl, r, feedUrl) : undefined;
      if (!renewed || renewed === r.audioUrl) throw err;
      log.info(`${key}: the stored enclosure URL was refused (${(err as Error).message}); downloading the one the feed gives now`);
      audioUrl = renewed;
      got = await download(resolveMediaUrl(renewed, feedUrl));
    }
    update(dl, r, { ...r, audioUrl, audio: { key, size: got.size, sha256: got.sha256 }, status: 'downloaded', error: undefined, failedRuns: undefined });
    counts.downloaded++;
    counts.bytes += got.size;
    log.progress(`${tag()} done, ${formatBytes(got.size)}`);
  } catch (err) {
    const local = localResourceProblem(err, paths.file(key));
    if (local) {
      dl.stopped ??= { key, ...local };
      return;
    }
    if (err instanceof DeadlineError) {
      // Not the episode's fault: nothing recorded against it.
      counts.deferred++;
      return;
    }
    if (isTimeout(err)) dl.hostTimeouts.set(host, (dl.hostTimeouts.get(host) ?? 0) + 1);
    const message = (err as Error).message ?? String(err);
    const failedRuns = (r.failedRuns ?? 0) + 1;
    update(dl, r, { ...r, status: 'failed', error: message, audio: undefined, failedRuns }); // whatever we had is not here
    counts.failed++;
    const givingUp = maxFailedRuns > 0 && failedRuns >= maxFailedRuns;
    run.problems.push({
      site: site.id,
      podcast: r.podcast,
      episode: describe(r),
      file: key,
      message: `download failed: ${message}${givingUp ? ` (failed in ${failedRuns} runs in a row: given up)` : ''}`,
      fix: downloadFix(err, r.podcast, givingUp),
    });
  } finally {
    dl.done++;
    saveSoon(run, dl);
  }
}

/** A refusal that a signed, expiring enclosure URL gets once it is out of date. */
function expiredEnclosure(err: unknown): boolean {
  return err instanceof FetchError && (err.status === 401 || err.status === 403 || err.status === 410);
}

/**
 * The episode's enclosure URL as its feed gives it now (read in full, once per podcast and run), masked like
 * every stored URL; undefined when the feed cannot be read or no longer has the episode.
 */
async function freshEnclosure(run: Run, dl: Downloads, r: EpisodeRecord, feedUrl: string): Promise<string | undefined> {
  let urls = dl.fresh.get(r.podcast);
  if (!urls) {
    urls = (async () => {
      const out = new Map<string, string>();
      try {
        const fetched = await fetchFeed(feedUrl, undefined, {
          timeoutMs: run.timeoutMs,
          feedDeadlineMs: run.feedDeadlineMs,
          maxBytes: run.maxFeedBytes,
          signal: run.stop,
          retry: run.retry,
          onRequest: () => run.counts.requests++,
          policy: untrustedUrlPolicy(run.site, feedUrl),
        });
        if (!fetched.changed) return out;
        const feed = await parseFeedXml(decodeFeed(maskSecretsIn(fetched.body), fetched.contentType));
        for (const item of feed.items) {
          const id = episodeIdentity(item)?.id;
          if (id && item.enclosure?.url && !out.has(id)) out.set(id, item.enclosure.url);
        }
      } catch (err) {
        run.log.warn(`podcast ${r.podcast}: reading the feed again for fresh enclosure URLs failed (${(err as Error).message})`);
      }
      return out;
    })();
    dl.fresh.set(r.podcast, urls);
  }
  return (await urls).get(r.id);
}

/** Save the manifest now and then while downloads run (a crash in between is recovered by adopting the files). */
function saveSoon(run: Run, dl: Downloads): void {
  if (Date.now() - dl.lastSave < SAVE_EVERY_MS) return;
  dl.lastSave = Date.now();
  dl.saving = dl.saving.then(() => writeJsonAtomic(run.paths.manifestFile, dl.manifest));
}
