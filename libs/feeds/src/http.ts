import { createReadStream, promises as fsp } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import * as zlib from 'node:zlib';
import { maskSecrets, PodlineError, revealSecrets } from '@podline/config';
import { checkUntrustedUrl, policyLookup, RefusedUrlError, type UrlPolicy } from './url-policy';

/** Sent with every request, so publishers can see who reads their feed. */
export const USER_AGENT = 'Podline/0.1 (podcast search ingest; feed reader)';

/** A failed request: what went wrong, whether trying again may help, and how long the server asked us to wait. */
export class FetchError extends PodlineError {
  constructor(
    message: string,
    readonly url: string,
    readonly options: { status?: number; retryable?: boolean; retryAfterMs?: number; code?: string } = {},
  ) {
    super(message);
  }
  get status(): number | undefined {
    return this.options.status;
  }
  get retryable(): boolean {
    return !!this.options.retryable;
  }
  get retryAfterMs(): number | undefined {
    return this.options.retryAfterMs;
  }
}

export interface OpenOptions {
  /** Extra request headers (conditional headers, Accept). */
  headers?: Record<string, string>;
  /** Idle timeout: no response or no data for this long fails the request. */
  timeoutMs?: number;
  /** Total time allowed for the whole response (feeds); 0 or unset: no limit (large downloads). */
  deadlineMs?: number;
  /** Redirects followed before giving up. Default 5. */
  maxRedirects?: number;
  /** Accept gzip/deflate/br and decode it (feeds: text compresses well). Off for audio, whose length we check. */
  decompress?: boolean;
  /**
   * The URL came from an untrusted source (a feed, the bucket): every hop is checked against this policy
   * (http(s) only, no non-public hosts unless allowed). Unset: the operator's own URL, but redirects to file:
   * are still refused.
   */
  policy?: UrlPolicy;
  /** The first URL is the operator's own (a feed URL from the site config): the policy applies to redirects only. */
  trustedStart?: boolean;
  /** Stops the request (and its body) when aborted: the run's deadline. */
  signal?: AbortSignal;
}

export interface OpenedResponse {
  /** The URL finally answered (after redirects). */
  url: string;
  /** 2xx, or 304 when a conditional request found nothing new. */
  status: number;
  /** Lower-case header names. */
  headers: Record<string, string | undefined>;
  /** Declared body length (Content-Length), when given. */
  length?: number;
  /** Set when every redirect on the way was permanent (301/308): where the resource now lives. */
  permanentUrl?: string;
  body: Readable;
}

/** The run's deadline stopped this request: not the server's fault, not retried, left for the next run. */
export class DeadlineError extends PodlineError {
  constructor(message = 'stopped: the run reached its deadline') {
    super(message);
  }
}

/** True when a request failed because it took too long (idle timeout or the per-request deadline). */
export function isTimeout(err: unknown): boolean {
  return err instanceof FetchError && err.options.code === 'ETIMEDOUT';
}

const RETRYABLE_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH', 'ERR_STREAM_PREMATURE_CLOSE']);

/** True for errors worth another attempt: network failures, timeouts, 429 and 5xx. */
export function isRetryable(err: unknown): boolean {
  if (err instanceof FetchError) return err.retryable;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code && RETRYABLE_CODES.has(code)) return true;
  return (err as Error | undefined)?.message === 'aborted';
}

/** Retry-After as milliseconds (seconds or an HTTP date); undefined when absent or unreadable. */
function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function statusError(url: string, status: number, headers: http.IncomingHttpHeaders): FetchError {
  const retryable = status === 429 || status >= 500;
  const retryAfterMs = parseRetryAfter(headers['retry-after'] as string | undefined);
  return new FetchError(`HTTP ${status}${http.STATUS_CODES[status] ? ` ${http.STATUS_CODES[status]}` : ''} from ${url}`, url, { status, retryable, retryAfterMs });
}

/** A file's validator, so `file:` URLs answer conditional requests like a server would. */
function fileEtag(stat: { size: number; mtimeMs: number }): string {
  return `"${stat.size.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}"`;
}

async function openFile(url: string, headers: Record<string, string>): Promise<OpenedResponse> {
  let file: string;
  try {
    file = fileURLToPath(url);
  } catch {
    throw new FetchError(`"${url}" is not a usable file: URL`, url);
  }
  let stat;
  try {
    stat = await fsp.stat(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new FetchError(code === 'ENOENT' ? `${file} does not exist` : `cannot read ${file} (${code})`, url, { status: code === 'ENOENT' ? 404 : undefined });
  }
  if (!stat.isFile()) throw new FetchError(`${file} is not a file`, url);
  const etag = fileEtag(stat);
  const lastModified = new Date(Math.floor(stat.mtimeMs / 1000) * 1000).toUTCString();
  const out = { etag, 'last-modified': lastModified, 'content-length': String(stat.size) };
  const inm = headers['If-None-Match'];
  if (inm && inm === etag) {
    return { url, status: 304, headers: out, body: Readable.from([]) };
  }
  return { url, status: 200, headers: out, length: stat.size, body: createReadStream(file) };
}

function requestOnce(url: URL, headers: Record<string, string>, opts: OpenOptions, policy?: UrlPolicy): Promise<{ res: http.IncomingMessage }> {
  const lib = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const encoding = opts.decompress ? 'gzip, deflate, br' : 'identity';
    if (opts.signal?.aborted) return reject(new DeadlineError());
    const lookup = policy && policyLookup(policy, url.href);
    const req = lib.get(url, { headers: { 'User-Agent': USER_AGENT, 'Accept-Encoding': encoding, ...headers }, ...(lookup ? { lookup } : {}) });
    const onAbort = () => fail(new DeadlineError());
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    req.on('close', () => opts.signal?.removeEventListener('abort', onAbort));
    const timeoutMs = opts.timeoutMs ?? 30_000;
    // Messages name the URL as stored (a secret in it masked), never as sent.
    const shown = maskSecrets(url.href);
    let response: http.IncomingMessage | undefined;
    const fail = (err: Error) => {
      if (response) response.destroy(err);
      else req.destroy(err);
    };
    // Socket idle timeout: covers a server that never answers and a body that stops mid-way.
    req.setTimeout(timeoutMs, () => {
      fail(new FetchError(`no data from ${shown} for ${Math.round(timeoutMs / 1000)} s (timed out)`, shown, { retryable: true, code: 'ETIMEDOUT' }));
    });
    let deadline: NodeJS.Timeout | undefined;
    if (opts.deadlineMs) {
      deadline = setTimeout(() => {
        fail(new FetchError(`${shown} did not finish within ${Math.round(opts.deadlineMs! / 1000)} s (timed out)`, shown, { retryable: true, code: 'ETIMEDOUT' }));
      }, opts.deadlineMs);
      deadline.unref();
      req.on('close', () => clearTimeout(deadline));
    }
    req.on('error', (err) => {
      clearTimeout(deadline);
      if (err instanceof FetchError || err instanceof DeadlineError || err instanceof RefusedUrlError) return reject(err);
      const code = (err as NodeJS.ErrnoException).code;
      reject(new FetchError(`${shown}: ${maskSecrets(err.message)}${code && !err.message.includes(code) ? ` (${code})` : ''}`, shown, { retryable: isRetryable(err), code }));
    });
    req.on('response', (res) => {
      response = res;
      res.on('close', () => {
        clearTimeout(deadline);
        opts.signal?.removeEventListener('abort', onAbort);
      });
      resolve({ res });
    });
  });
}

function decoderFor(encoding: string | undefined): zlib.Gunzip | zlib.Inflate | zlib.BrotliDecompress | undefined {
  switch ((encoding ?? '').trim().toLowerCase()) {
    case 'gzip':
    case 'x-gzip':
      return zlib.createGunzip();
    case 'deflate':
      return zlib.createInflate();
    case 'br':
      return zlib.createBrotliDecompress();
    default:
      return undefined;
  }
}

function flatHeaders(h: http.IncomingHttpHeaders): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(h)) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

/**
 * Open a URL (http, https or file) and return its body as a stream. Follows redirects (bounded, loops detected),
 * sends our User-Agent, applies the idle timeout. Throws FetchError on 4xx/5xx (retryable for 429 and 5xx).
 * A 304 is returned as is (the caller sent the conditional headers).
 */
export async function openUrl(url: string, opts: OpenOptions = {}): Promise<OpenedResponse> {
  try {
    return await openRevealed(url, opts);
  } catch (err) {
    // A secret (`${secret:NAME}`) is revealed for the request only: what comes back names it masked.
    if (err instanceof Error) err.message = maskSecrets(err.message);
    if (err instanceof FetchError) (err as { url: string }).url = maskSecrets(err.url);
    throw err;
  }
}

async function openRevealed(url: string, opts: OpenOptions): Promise<OpenedResponse> {
  const headers = opts.headers ?? {};
  const maxRedirects = opts.maxRedirects ?? 5;
  const seen = new Set<string>();
  let current = revealSecrets(url);
  let allPermanent = true;
  for (let hop = 0; ; hop++) {
    let parsed: URL;
    try {
      parsed = new URL(current);
    } catch {
      throw new FetchError(`"${current}" is not a valid URL`, current);
    }
    const policy = opts.policy && !(hop === 0 && opts.trustedStart) ? opts.policy : undefined;
    if (policy) checkUntrustedUrl(parsed, policy, hop > 0);
    if (parsed.protocol === 'file:') {
      if (hop > 0) throw new FetchError(`${url} redirects to a local file (${current}); refused`, url);
      return openFile(parsed.href, headers);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new FetchError(`"${current}" uses ${parsed.protocol}, which Podline cannot fetch`, current);
    }
    seen.add(parsed.href);
    const { res } = await requestOnce(parsed, headers, opts, policy);
    const status = res.statusCode ?? 0;
    if (status >= 300 && status < 400 && status !== 304) {
      res.resume();
      const location = res.headers.location;
      if (!location) throw new FetchError(`HTTP ${status} from ${parsed.href} without a Location`, parsed.href);
      const next = new URL(location, parsed).href;
      if (seen.has(next)) throw new FetchError(`redirect loop: ${parsed.href} leads back to ${next}`, url);
      if (hop + 1 > maxRedirects) throw new FetchError(`more than ${maxRedirects} redirects from ${url}`, url);
      allPermanent &&= status === 301 || status === 308;
      current = next;
      continue;
    }
    if (status >= 400 || status < 200) {
      res.resume();
      throw statusError(parsed.href, status, res.headers);
    }
    const permanentUrl = hop > 0 && allPermanent ? maskSecrets(parsed.href) : undefined;
    const answered = maskSecrets(parsed.href);
    const decoder = opts.decompress ? decoderFor(res.headers['content-encoding']) : undefined;
    if (decoder) {
      // A truncated compressed body fails in the decoder ("unexpected end of file").
      res.on('error', (err) => decoder.destroy(err));
      // A reader that stops early (a size cap) closes the connection too, so nothing more is inflated or read.
      decoder.on('close', () => res.destroy());
      return { url: answered, status, headers: flatHeaders(res.headers), permanentUrl, body: res.pipe(decoder) };
    }
    const len = res.headers['content-length'];
    const length = len !== undefined && /^\d+$/.test(len) ? Number(len) : undefined;
    return { url: answered, status, headers: flatHeaders(res.headers), length, permanentUrl, body: res };
  }
}

/** A connection dropped mid-body says "aborted" or "socket hang up"; say what happened instead. */
export function describeStreamError(err: unknown, url: string, received: number, total?: number): unknown {
  if (err instanceof FetchError || err instanceof DeadlineError || !isRetryable(err)) return err;
  const why = (err as Error).message || (err as NodeJS.ErrnoException).code || 'connection closed';
  return new FetchError(`${url} was cut off after ${received}${total !== undefined ? ` of ${total}` : ''} bytes (${why})`, url, { retryable: true });
}

/** Read a whole body into memory (feeds), refusing more than `maxBytes`. */
export async function readBody(res: OpenedResponse, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of res.body) {
      total += (chunk as Buffer).length;
      if (total > maxBytes) {
        res.body.destroy();
        throw new FetchError(`${res.url} is larger than ${+(maxBytes / 1e6).toPrecision(2)} MB; refused`, res.url, { code: 'ETOOBIG' });
      }
      chunks.push(chunk as Buffer);
    }
  } catch (err) {
    throw describeStreamError(err, res.url, total, res.length);
  }
  if (res.length !== undefined && total < res.length) {
    throw new FetchError(`${res.url} was cut off after ${total} of ${res.length} bytes`, res.url, { retryable: true });
  }
  return Buffer.concat(chunks);
}
