import { promises as fsp } from 'node:fs';
import {
  DEFAULT_MAX_AUDIO_MB,
  keys,
  localResourceProblem,
  resolveFeedUrl,
  stripControl,
  writeFileAtomic,
  writeJsonAtomic,
  type EpisodeManifest,
  type EpisodeRecord,
  type PodcastConfig,
  type SiteConfig,
  type SitePaths,
} from '@podline/config';
import type { TaskProblem } from '@podline/report';
import { looksLikeAudio, looksLikeVideo } from './audio';
import { downloadAudio, hashFile, NotAudioError, TooLargeError } from './download';
import { fetchFeed, type FeedValidators } from './feed-fetch';
import { DeadlineError, FetchError, isTimeout } from './http';
import { readManifest } from './manifest-io';
import { emptyManifest, mergeFeed, sortRecords } from './merge';
import { decodeFeed, FeedParseError, parseFeedXml } from './parse';
import { resolveRssOptions, type RssOptions } from './options';
import { DEFAULT_RETRY, mapLimit, type RetryPolicy } from './retry';
import { untrustedUrlPolicy } from './url-policy';
import { rssState, type RssState } from './state';

export type { RssOptions } from './options';

/** A host whose downloads timed out this many times in one run gets no more of this run's downloads. */
const HOST_TIMEOUTS_BEFORE_PAUSE = 2;

export interface RssLogger {
  info(msg: string): void;
  warn(msg: string): void;
  debug(msg: string): void;
  progress(msg: string): void;
}

export interface RssResult {
  /** Undefined in a dry run. */
  state?: RssState;
  manifest: EpisodeManifest;
  counts: Record<string, number>;
  problems: TaskProblem[];
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
    if (err.status === 401 || err.status === 403) return 'the feed server refuses us: check the URL (private feeds need their token in the URL)';
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
    // Newest first; undated last; file key breaks ties so the choice is deterministic.
    list.sort((a, b) => (b.published ?? '').localeCompare(a.published ?? '') || a.fileKey.localeCompare(b.fileKey));
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
  const dryRun = options.dryRun;
  const concurrency = Math.max(1, options.concurrency);
  const timeoutMs = options.timeoutSeconds * 1000;
  const feedDeadlineMs = options.feedDeadlineSeconds * 1000;
  const maxFeedBytes = options.maxFeedMB * 1e6;
  const maxFailedRuns = options.maxFailedRuns;
  const since = parseSince(options.since);
  const deadlineMs = options.deadlineSeconds * 1000;
  const stop = new AbortController();
  const stopTimer = setTimeout(() => stop.abort(), deadlineMs);
  stopTimer.unref();
  const retry: RetryPolicy = { ...DEFAULT_RETRY, retries: options.retries, baseMs: options.retryBaseMs, signal: stop.signal };
  const counts: Record<string, number> = { feeds: 0, unchanged: 0, requests: 0, new: 0, noAudio: 0, video: 0, duplicates: 0, downloaded: 0, adopted: 0, failed: 0, givenUp: 0, deferred: 0, bytes: 0 };
  const problems: TaskProblem[] = [];
  try {
    return await runRssUntil(site, paths, options, log, { dryRun, concurrency, timeoutMs, feedDeadlineMs, maxFeedBytes, maxFailedRuns, since, deadlineMs, stop: stop.signal, retry, counts, problems });
  } finally {
    clearTimeout(stopTimer);
  }
}

interface RunSettings {
  dryRun: boolean;
  concurrency: number;
  timeoutMs: number;
  feedDeadlineMs: number;
  maxFeedBytes: number;
  maxFailedRuns: number;
  since?: number;
  deadlineMs: number;
  stop: AbortSignal;
  retry: RetryPolicy;
  counts: Record<string, number>;
  problems: TaskProblem[];
}

async function runRssUntil(site: SiteConfig, paths: SitePaths, options: RssOptions, log: RssLogger, run: RunSettings): Promise<RssResult> {
  const { dryRun, concurrency, timeoutMs, feedDeadlineMs, maxFeedBytes, maxFailedRuns, since, stop, retry, counts, problems } = run;
  const stored = await readManifest(paths.manifestFile, site.id);
  const haveManifest = stored !== undefined;
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

  // 1. Feeds: fetch (conditionally), parse, merge. A failing feed leaves its podcast's records as they were.
  const active = site.podcasts.filter((p) => p.active);
  const feedUrls = new Map<string, string>();
  const feedWrites: Array<{ podcast: string; body?: Buffer; validators: FeedValidators }> = [];
  await mapLimit(active, concurrency, async (podcast) => {
    const configured = resolveFeedUrl(site, podcast.feedUrl);
    counts.feeds++;
    let url = configured;
    try {
      if (stop.aborted) throw new DeadlineError();
      const known = await readValidators(paths.feedCacheFile(podcast.id));
      const where = effectiveFeedUrl(configured, known);
      url = where.url;
      feedUrls.set(podcast.id, url);
      if (where.moved) log.warn(`podcast ${podcast.id}: reading the feed from ${url}, where it moved (site.config.json still says ${podcast.feedUrl}); fix: set podcasts[].feedUrl of "${podcast.id}" to ${url}`);
      // Conditional only when what the validators vouch for is still here.
      const haveLocal = haveManifest && (await exists(paths.rssFile(podcast.id)));
      const fetched = await fetchFeed(url, haveLocal ? known : undefined, {
        timeoutMs,
        feedDeadlineMs,
        maxBytes: maxFeedBytes,
        signal: stop,
        retry,
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
        if (base) feedWrites.push({ podcast: podcast.id, validators: { ...base, configuredUrl: configured, movedTo } });
        return;
      }
      const feed = await parseFeedXml(decodeFeed(fetched.body, fetched.contentType));
      for (const w of feed.warnings) log.warn(`podcast ${podcast.id}: feed ${url}, ${w}`);
      const announced = newAddress(feed.newFeedUrl, url);
      const movedTo = fetched.permanentUrl ? remember(fetched.permanentUrl, 'permanent redirect') : remember(announced, 'itunes:new-feed-url');
      const merged = mergeFeed(podcast.id, byPodcast.get(podcast.id) ?? [], feed.items, { includeVideo: podcast.includeVideo });
      for (const n of merged.notices) log.warn(`podcast ${n.podcast}, episode ${n.episode} ${n.message}`);
      counts.new += merged.added;
      counts.noAudio += merged.noAudio;
      counts.video += merged.video;
      counts.duplicates += merged.duplicates;
      byPodcast.set(podcast.id, merged.records);
      feedWrites.push({ podcast: podcast.id, body: fetched.body, validators: { ...fetched.validators, configuredUrl: configured, movedTo } });
      log.info(`podcast ${podcast.id}: ${feed.items.length} items, ${merged.added} new`);
    } catch (err) {
      const message = err instanceof DeadlineError ? `not read: the run reached its deadline (${Math.round(run.deadlineMs / 1000)} s)` : `feed ${url}: ${(err as Error).message}`;
      problems.push({ site: site.id, podcast: podcast.id, file: keys.rss(podcast.id), message, fix: err instanceof DeadlineError ? 'it is read on the next run' : feedFix(err) });
    }
  });

  // Records that could not be used stay in the manifest exactly as they were.
  const manifest: EpisodeManifest = { version: 1, site: site.id, episodes: sortRecords([...[...byPodcast.values()].flat(), ...unsafe]) };
  // Nothing parsed and nothing downloaded: the manifest is not even re-serialised (the cheap hourly no-op).
  let dirty = feedWrites.some((w) => w.body) || !previous.episodes.length;
  // Raw feeds and the manifest first, the validators last: a crash in between means a full fetch next time.
  if (!dryRun) {
    for (const w of feedWrites) if (w.body) await writeFileAtomic(paths.rssFile(w.podcast), w.body);
    if (dirty) await writeJsonAtomic(paths.manifestFile, manifest);
    for (const w of feedWrites) await writeJsonAtomic(paths.feedCacheFile(w.podcast), w.validators);
  }

  // 2. Audio: the wanted episodes we do not have yet (or whose file vanished), adopting verified files already here.
  const index = new Map(manifest.episodes.map((r, i) => [r, i] as const));
  const update = (r: EpisodeRecord, next: EpisodeRecord) => {
    manifest.episodes[index.get(r)!] = next;
    dirty = true;
  };
  const podcastsById = new Map(active.map((p) => [p.id, p] as const));
  const mediaKey = (r: EpisodeRecord) => (podcastsById.get(r.podcast)?.includeVideo && isVideoRecord(r) ? keys.audio(r.podcast, r.fileKey, videoExtension(r)) : keys.audio(r.podcast, r.fileKey));
  const wanted = selectWanted(
    manifest.episodes.filter((r) => !unsafe.has(r)),
    new Set(active.map((p) => p.id)),
    { maxEpisodes: options.maxEpisodes, since },
  );
  const todo: EpisodeRecord[] = [];
  for (const r of wanted) {
    const key = mediaKey(r);
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
      const wantsVideo = !!podcastsById.get(r.podcast)?.includeVideo && isVideoRecord(r);
      const usable = looksLikeVideo(local.head) ? wantsVideo : looksLikeAudio(local.head);
      const matches = r.audio ? r.audio.size === local.size && r.audio.sha256 === local.sha256 : local.size > 0 && usable;
      if (matches) {
        update(r, { ...r, audio: { key, size: local.size, sha256: local.sha256 }, status: 'downloaded', error: undefined });
        counts.adopted++;
        log.info(`podcast ${r.podcast}: adopted ${key} (already here, verified)`);
        continue;
      }
      log.warn(`podcast ${r.podcast}: ${key} exists but does not match; downloading it again`);
    }
    todo.push(r);
  }

  if (dryRun) {
    for (const r of todo) log.info(`(dry run) would download ${mediaKey(r)} from ${r.audioUrl}`);
    counts.wouldDownload = todo.length;
    return { manifest, counts: nonZero(counts), problems };
  }

  let saving: Promise<unknown> = Promise.resolve();
  let lastSave = Date.now();
  const saveSoon = () => {
    if (Date.now() - lastSave < SAVE_EVERY_MS) return;
    lastSave = Date.now();
    saving = saving.then(() => writeJsonAtomic(paths.manifestFile, manifest));
  };

  // A host that keeps timing out gets no more of this run's downloads: they wait for the next run.
  const hostTimeouts = new Map<string, number>();
  const pausedHosts = new Map<string, number>();
  let done = 0;
  // This machine's own trouble (disk full, no permission): stop downloading, blame no episode.
  let stopped: { key: string; message: string; fix: string } | undefined;
  await mapLimit(todo, concurrency, async (r) => {
    if (stopped) return;
    const key = mediaKey(r);
    const tag = () => `[${done + 1}/${todo.length}] ${key}`;
    const podcast = podcastsById.get(r.podcast);
    let host = '';
    try {
      const feedUrl = feedUrls.get(r.podcast) ?? resolveFeedUrl(site, podcast!.feedUrl);
      const url = resolveMediaUrl(r.audioUrl!, feedUrl);
      host = hostOf(url);
      if (stop.aborted) throw new DeadlineError();
      if ((hostTimeouts.get(host) ?? 0) >= HOST_TIMEOUTS_BEFORE_PAUSE) {
        counts.deferred++;
        pausedHosts.set(host, (pausedHosts.get(host) ?? 0) + 1);
        return;
      }
      let lastShown = 0;
      const got = await downloadAudio(url, paths.file(key), {
        timeoutMs,
        retry,
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
      update(r, { ...r, audio: { key, size: got.size, sha256: got.sha256 }, status: 'downloaded', error: undefined, failedRuns: undefined });
      counts.downloaded++;
      counts.bytes += got.size;
      log.progress(`${tag()} done, ${formatBytes(got.size)}`);
    } catch (err) {
      const local = localResourceProblem(err, paths.file(key));
      if (local) {
        stopped ??= { key, ...local };
        return;
      }
      if (err instanceof DeadlineError) {
        // Not the episode's fault: nothing recorded against it.
        counts.deferred++;
        return;
      }
      if (isTimeout(err)) hostTimeouts.set(host, (hostTimeouts.get(host) ?? 0) + 1);
      const message = (err as Error).message ?? String(err);
      const failedRuns = (r.failedRuns ?? 0) + 1;
      update(r, { ...r, status: 'failed', error: message, audio: undefined, failedRuns }); // whatever we had is not here
      counts.failed++;
      const givingUp = maxFailedRuns > 0 && failedRuns >= maxFailedRuns;
      problems.push({
        site: site.id,
        podcast: r.podcast,
        episode: describe(r),
        file: key,
        message: `download failed: ${message}${givingUp ? ` (failed in ${failedRuns} runs in a row: given up)` : ''}`,
        fix: downloadFix(err, r.podcast, givingUp),
      });
    } finally {
      done++;
      saveSoon();
    }
  });
  await saving;
  if (stopped) {
    const left = todo.length - counts.downloaded - counts.failed - counts.deferred;
    problems.push({ site: site.id, file: stopped.key, message: `downloads stopped: ${stopped.message}; ${left} episode(s) not downloaded (not counted against them)`, fix: stopped.fix });
  }
  for (const [host, n] of pausedHosts) {
    log.warn(`${host} timed out ${HOST_TIMEOUTS_BEFORE_PAUSE} times: its other ${n} download(s) are left for the next run`);
  }
  if (stop.aborted && counts.deferred) {
    log.warn(`the run reached its deadline (${Math.round(run.deadlineMs / 1000)} s, --deadlineSeconds): ${counts.deferred} download(s) are left for the next run`);
  }
  if (dirty) await writeJsonAtomic(paths.manifestFile, manifest);
  return { state: rssState(manifest), manifest, counts: nonZero(counts), problems };
}
