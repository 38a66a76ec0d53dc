import { createHash } from 'node:crypto';
import { openUrl, readBody } from './http';
import { withRetry, type RetryPolicy } from './retry';
import type { UrlPolicy } from './url-policy';

/**
 * Largest feed accepted, after decompression. The largest real podcast feeds are a few tens of MB; parsing holds
 * the feed's text plus one item at a time, so memory stays a small multiple of this.
 */
export const DEFAULT_MAX_FEED_BYTES = 64e6;

/** What we keep per feed (local only) to ask "anything new?" next time. */
export interface FeedValidators {
  /** The URL these validators belong to: a changed feed URL starts afresh. */
  url: string;
  etag?: string;
  lastModified?: string;
  /** sha256 of the last body: a server without validators that sends the same bytes is also "unchanged". */
  sha256?: string;
  /**
   * Where the feed said it moved (permanent redirect or `itunes:new-feed-url`), read instead of `url` by later runs
   * until site.config.json is updated.
   */
  movedTo?: string;
  /** The site config's URL when `movedTo` was learnt: a changed config starts afresh. */
  configuredUrl?: string;
}

export type FeedFetchResult =
  | { changed: false; requests: number; validators?: FeedValidators; permanentUrl?: string }
  | { changed: true; body: Buffer; contentType?: string; validators: FeedValidators; requests: number; permanentUrl?: string };

export interface FeedFetchOptions {
  /** Idle and whole-request limit of one attempt. */
  timeoutMs: number;
  /** All attempts of this feed together (retries included) end within this. Default: 2 × timeoutMs. */
  feedDeadlineMs?: number;
  /** The run's deadline. */
  signal?: AbortSignal;
  retry: RetryPolicy;
  maxRedirects?: number;
  /** Largest feed accepted (after decompression). Default DEFAULT_MAX_FEED_BYTES. */
  maxBytes?: number;
  onRetry?: (err: unknown, attempt: number, waitMs: number) => void;
  /** Hears every request made (retries included), failed ones too. */
  onRequest?: () => void;
  /** Checks the redirects the feed server answers with (the feed URL itself is the operator's). */
  policy?: UrlPolicy;
}

/**
 * Fetch a feed with a conditional request (If-None-Match / If-Modified-Since from `previous`).
 * 304, or a 200 with the very bytes we already have, is `changed: false`.
 */
export async function fetchFeed(url: string, previous: FeedValidators | undefined, opts: FeedFetchOptions): Promise<FeedFetchResult> {
  const prev = previous && previous.url === url ? previous : undefined;
  const headers: Record<string, string> = { Accept: 'application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5' };
  if (prev?.etag) headers['If-None-Match'] = prev.etag;
  if (prev?.lastModified) headers['If-Modified-Since'] = prev.lastModified;
  let requests = 0;
  const deadlineAt = Date.now() + (opts.feedDeadlineMs ?? 2 * opts.timeoutMs);
  return withRetry(
    async () => {
      requests++;
      opts.onRequest?.();
      const left = Math.max(1, Math.min(opts.timeoutMs, deadlineAt - Date.now()));
      const res = await openUrl(url, { headers, timeoutMs: left, deadlineMs: left, maxRedirects: opts.maxRedirects, decompress: true, signal: opts.signal, policy: opts.policy, trustedStart: true });
      if (res.status === 304) {
        res.body.resume();
        return { changed: false as const, requests, permanentUrl: res.permanentUrl };
      }
      const body = await readBody(res, opts.maxBytes ?? DEFAULT_MAX_FEED_BYTES);
      const sha256 = createHash('sha256').update(body).digest('hex');
      const validators: FeedValidators = { url, etag: res.headers.etag, lastModified: res.headers['last-modified'], sha256 };
      if (prev?.sha256 === sha256) return { changed: false as const, requests, validators, permanentUrl: res.permanentUrl };
      return { changed: true as const, body, contentType: res.headers['content-type'], validators, requests, permanentUrl: res.permanentUrl };
    },
    { ...opts.retry, deadlineAt, signal: opts.signal },
    opts.onRetry,
  );
}
