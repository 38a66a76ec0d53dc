import { promises as fsp } from 'node:fs';
import {
  keys,
  localResourceProblem,
  resolveFeedUrl,
  writeFileAtomic,
  writeJsonAtomic,
  type EpisodeManifest,
  type EpisodeRecord,
  type PodcastConfig,
  type SiteConfig,
  type SitePaths,
} from '@podline/config';
import type { TaskProblem } from '@podline/report';
import { looksLikeAudio } from './audio';
import { downloadAudio, hashFile, NotAudioError } from './download';
import { fetchFeed, type FeedValidators } from './feed-fetch';
import { FetchError } from './http';
import { readManifest } from './manifest-io';
import { emptyManifest, mergeFeed, sortRecords } from './merge';
import { decodeFeed, FeedParseError, parseFeedXml } from './parse';
import { DEFAULT_RETRY, mapLimit, type RetryPolicy } from './retry';
import { untrustedUrlPolicy } from './url-policy';
import { rssState, type RssState } from './state';

export interface RssOptions {
  /** Say what would be done; write nothing. */
  dryRun?: boolean;
  /** Download only the N newest episodes of each podcast (0: all). */
  maxEpisodes?: number;
  /** Download only episodes published on or after this date (YYYY-MM-DD or ISO 8601). */
  since?: string;
  /** Feeds and downloads at once. Default 3. */
  concurrency?: number;
  /** Feed: whole-request limit; download: idle limit (no data for this long). Default 60. */
  timeoutSeconds?: number;
  /** Retries on network errors, 429 and 5xx. Default 3. */
  retries?: number;
  /** First back-off (doubles per retry, with jitter). Default 1000. */
  retryBaseMs?: number;
  /** Progress lines while a file downloads, every this many ms; 0: one line per finished file (CI). */
  progressIntervalMs?: number;
  /**
   * Give up on an episode whose download failed in this many runs in a row (default 3; 0: never): later runs
   * skip it and no longer fail, so one dead enclosure does not hold back the site's other phases for good.
   */
  maxFailedRuns?: number;
  /** Try the episodes given up on again. */
  retryFailed?: boolean;
}

const DEFAULT_MAX_FAILED_RUNS = 3;

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

function describe(r: Pick<EpisodeRecord, 'title' | 'id'>): string {
  return r.title ? `"${r.title}" (${r.id})` : r.id;
}

function feedFix(err: unknown): string {
  if (err instanceof FeedParseError) return 'the URL does not serve a podcast feed: check podcasts[].feedUrl in site.config.json, or tell the publisher; the previous manifest is kept';
  if (err instanceof FetchError) {
    if (err.status === 404 || err.status === 410) return 'the feed is gone or moved: correct podcasts[].feedUrl in site.config.json, or set "active": false';
    if (err.status === 401 || err.status === 403) return 'the feed server refuses us: check the URL (private feeds need their token in the URL)';
    if (/redirect/.test(err.message)) return 'the feed server redirects in a circle or too often: check podcasts[].feedUrl, or tell the publisher';
    if (err.retryable) return 'the feed server is failing or slow; it is tried again on the next run';
  }
  return 'check podcasts[].feedUrl in site.config.json; it is tried again on the next run';
}

function downloadFix(err: unknown): string {
  if (typeof (err as { fix?: unknown }).fix === 'string') return (err as { fix: string }).fix;
  if (err instanceof NotAudioError) return 'the enclosure URL does not serve audio: tell the publisher; it is tried again on the next run';
  if (err instanceof FetchError && err.status && err.status >= 400 && err.status < 500 && err.status !== 429) {
    return 'the enclosure URL is broken: tell the publisher; it is tried again on the next run';
  }
  return 'network or server trouble; it is tried again on the next run';
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
    if (!podcasts.has(r.podcast) || !r.audioUrl || r.status === 'no-audio') continue;
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

/**
 * The `rss` step for one site: read every active feed (conditionally), fold it into the episode manifest,
 * download the audio still missing, and return the deterministic state plus what happened.
 * Per-feed and per-episode failures become problems; everything else still gets done.
 */
export async function runRss(site: SiteConfig, paths: SitePaths, options: RssOptions, log: RssLogger): Promise<RssResult> {
  const dryRun = !!options.dryRun;
  const concurrency = Math.max(1, options.concurrency ?? 3);
  const timeoutMs = (options.timeoutSeconds ?? 60) * 1000;
  const maxFailedRuns = options.maxFailedRuns ?? DEFAULT_MAX_FAILED_RUNS;
  const retry: RetryPolicy = { ...DEFAULT_RETRY, retries: options.retries ?? DEFAULT_RETRY.retries, baseMs: options.retryBaseMs ?? DEFAULT_RETRY.baseMs };
  const since = parseSince(options.since);
  const counts: Record<string, number> = { feeds: 0, unchanged: 0, requests: 0, new: 0, downloaded: 0, adopted: 0, failed: 0, givenUp: 0, bytes: 0 };
  const problems: TaskProblem[] = [];

  const stored = await readManifest(paths.manifestFile, site.id);
  const haveManifest = stored !== undefined;
  const previous = stored ?? emptyManifest(site.id);
  const byPodcast = new Map<string, EpisodeRecord[]>();
  for (const r of previous.episodes) {
    const list = byPodcast.get(r.podcast);
    if (list) list.push(r);
    else byPodcast.set(r.podcast, [r]);
  }

  // 1. Feeds: fetch (conditionally), parse, merge. A failing feed leaves its podcast's records as they were.
  const active = site.podcasts.filter((p) => p.active);
  const feedUrls = new Map(active.map((p) => [p.id, resolveFeedUrl(site, p.feedUrl)] as const));
  const feedWrites: Array<{ podcast: string; body?: Buffer; validators: FeedValidators }> = [];
  await mapLimit(active, concurrency, async (podcast: Required<PodcastConfig>) => {
    const url = feedUrls.get(podcast.id)!;
    counts.feeds++;
    try {
      // Conditional only when what the validators vouch for is still here.
      const haveLocal = haveManifest && (await exists(paths.rssFile(podcast.id)));
      const validators = haveLocal ? await readValidators(paths.feedCacheFile(podcast.id)) : undefined;
      const fetched = await fetchFeed(url, validators, {
        timeoutMs,
        retry,
        onRequest: () => counts.requests++,
        policy: untrustedUrlPolicy(site, url),
        onRetry: (err, attempt, wait) => log.warn(`podcast ${podcast.id}: feed attempt ${attempt + 1} failed (${(err as Error).message}); retrying in ${Math.round(wait)} ms`),
      });
      if (!fetched.changed) {
        counts.unchanged++;
        log.debug(`podcast ${podcast.id}: feed unchanged`);
        if (fetched.validators) feedWrites.push({ podcast: podcast.id, validators: fetched.validators });
        return;
      }
      const feed = await parseFeedXml(decodeFeed(fetched.body, fetched.contentType));
      const merged = mergeFeed(podcast.id, byPodcast.get(podcast.id) ?? [], feed.items);
      for (const n of merged.notices) log.warn(`podcast ${n.podcast}, episode ${n.episode} ${n.message}`);
      counts.new += merged.added;
      counts.skipped = (counts.skipped ?? 0) + merged.notices.length;
      byPodcast.set(podcast.id, merged.records);
      feedWrites.push({ podcast: podcast.id, body: fetched.body, validators: fetched.validators });
      log.info(`podcast ${podcast.id}: ${feed.items.length} items, ${merged.added} new`);
    } catch (err) {
      problems.push({ site: site.id, podcast: podcast.id, file: keys.rss(podcast.id), message: `feed ${podcast.feedUrl}: ${(err as Error).message}`, fix: feedFix(err) });
    }
  });

  const manifest: EpisodeManifest = { version: 1, site: site.id, episodes: sortRecords([...byPodcast.values()].flat()) };
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
  const todo: EpisodeRecord[] = [];
  for (const r of selectWanted(manifest.episodes, new Set(active.map((p) => p.id)), { maxEpisodes: options.maxEpisodes, since })) {
    const file = paths.audioFile(r.podcast, r.fileKey);
    const stat = await fsp.stat(file).catch(() => undefined);
    if (r.status === 'downloaded' && r.audio && stat?.size === r.audio.size) continue;
    if (r.status === 'failed' && maxFailedRuns > 0 && (r.failedRuns ?? 0) >= maxFailedRuns && !options.retryFailed) {
      counts.givenUp++;
      log.debug(`podcast ${r.podcast}: skipping ${describe(r)}, given up after ${r.failedRuns} failed runs (${r.error})`);
      continue;
    }
    if (stat?.isFile() && !dryRun) {
      const local = await hashFile(file);
      const matches = r.audio ? r.audio.size === local.size && r.audio.sha256 === local.sha256 : local.size > 0 && looksLikeAudio(local.head);
      if (matches) {
        update(r, { ...r, audio: { key: keys.audio(r.podcast, r.fileKey), size: local.size, sha256: local.sha256 }, status: 'downloaded', error: undefined });
        counts.adopted++;
        log.info(`podcast ${r.podcast}: adopted ${keys.audio(r.podcast, r.fileKey)} (already here, verified)`);
        continue;
      }
      log.warn(`podcast ${r.podcast}: ${keys.audio(r.podcast, r.fileKey)} exists but does not match; downloading it again`);
    }
    todo.push(r);
  }

  if (dryRun) {
    for (const r of todo) log.info(`(dry run) would download ${keys.audio(r.podcast, r.fileKey)} from ${r.audioUrl}`);
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

  let done = 0;
  // This machine's own trouble (disk full, no permission): stop downloading, blame no episode.
  let stopped: { key: string; message: string; fix: string } | undefined;
  await mapLimit(todo, concurrency, async (r) => {
    if (stopped) return;
    const key = keys.audio(r.podcast, r.fileKey);
    const tag = () => `[${done + 1}/${todo.length}] ${key}`;
    try {
      const url = resolveMediaUrl(r.audioUrl!, feedUrls.get(r.podcast)!);
      let lastShown = 0;
      const got = await downloadAudio(url, paths.audioFile(r.podcast, r.fileKey), {
        timeoutMs,
        retry,
        feedLength: r.audioLength,
        policy: untrustedUrlPolicy(site, feedUrls.get(r.podcast)!),
        onProgress: (received, total) => {
          const interval = options.progressIntervalMs ?? 0;
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
      const local = localResourceProblem(err, paths.audioFile(r.podcast, r.fileKey));
      if (local) {
        stopped ??= { key, ...local };
        return;
      }
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
        message: `download failed: ${message}${givingUp ? ` (${failedRuns} runs in a row: later runs skip this episode)` : ''}`,
        fix: givingUp ? `${downloadFix(err)}; once fixed, run rss with --retryFailed` : downloadFix(err),
      });
    } finally {
      done++;
      saveSoon();
    }
  });
  await saving;
  if (stopped) {
    const left = todo.length - counts.downloaded - counts.failed;
    problems.push({ site: site.id, file: stopped.key, message: `downloads stopped: ${stopped.message}; ${left} episode(s) not downloaded (not counted against them)`, fix: stopped.fix });
  }
  if (dirty) await writeJsonAtomic(paths.manifestFile, manifest);
  return { state: rssState(manifest), manifest, counts: nonZero(counts), problems };
}
