import { createHash } from 'node:crypto';
import { openUrl, readBody } from './http';
import { withRetry, type RetryPolicy } from './retry';
import type { UrlPolicy } from './url-policy';

/** What we keep per feed (local only) to ask "anything new?" next time. */
export interface FeedValidators {
  /** The URL these validators belong to: a changed feed URL starts afresh. */
  url: string;
  etag?: string;
  lastModified?: string;
  /** sha256 of the last body: a server without validators that sends the same bytes is also "unchanged". */
  sha256?: string;
}

export type FeedFetchResult =
  | { changed: false; requests: number; validators?: FeedValidators }
  | { changed: true; body: Buffer; contentType?: string; validators: FeedValidators; requests: number };

export interface FeedFetchOptions {
  /** Whole-request limit for a feed (a feed that never finishes fails after this). */
  timeoutMs: number;
  retry: RetryPolicy;
  maxRedirects?: number;
  /** Largest feed accepted. Default 200 MB. */
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
  return withRetry(
    async () => {
      requests++;
      opts.onRequest?.();
      const res = await openUrl(url, { headers, timeoutMs: opts.timeoutMs, deadlineMs: opts.timeoutMs, maxRedirects: opts.maxRedirects, decompress: true, policy: opts.policy, trustedStart: true });
      if (res.status === 304) {
        res.body.resume();
        return { changed: false as const, requests };
      }
      const body = await readBody(res, opts.maxBytes ?? 200e6);
      const sha256 = createHash('sha256').update(body).digest('hex');
      const validators: FeedValidators = { url, etag: res.headers.etag, lastModified: res.headers['last-modified'], sha256 };
      if (prev?.sha256 === sha256) return { changed: false as const, requests, validators };
      return { changed: true as const, body, contentType: res.headers['content-type'], validators, requests };
    },
    opts.retry,
    opts.onRetry,
  );
}
