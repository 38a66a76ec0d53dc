import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { isStaleTemp, PodlineError, tempPathFor } from '@podline/config';
import { AUDIO_SNIFF_BYTES, describeHead, looksLikeAudio, looksLikeVideo } from './audio';
import { DeadlineError, describeStreamError, FetchError, openUrl } from './http';
import { withRetry, type RetryPolicy } from './retry';
import type { UrlPolicy } from './url-policy';

export interface DownloadOptions {
  /** Idle timeout per request (ms). */
  timeoutMs: number;
  retry: RetryPolicy;
  /** The feed's enclosure length: checked when the server gives no Content-Length. */
  feedLength?: number;
  /** Called as bytes arrive (received, total when known). */
  onProgress?: (received: number, total?: number) => void;
  onRetry?: (err: unknown, attempt: number, waitMs: number) => void;
  /** What the enclosure URL (from a feed: untrusted) may reach. Default: http(s) to public addresses only. */
  policy?: UrlPolicy;
  /** Largest file accepted (bytes); larger fails with TooLargeError. Default: no limit. */
  maxBytes?: number;
  /** A video is what the podcast wants (includeVideo): accept video containers and video/* types. */
  video?: boolean;
  /** The run's deadline: stops the transfer (DeadlineError), no retry. */
  signal?: AbortSignal;
}

export interface DownloadedFile {
  size: number;
  sha256: string;
}

/** The download is not audio: trying again will not help. `video` when it is a video. */
export class NotAudioError extends PodlineError {
  constructor(
    message: string,
    readonly video = false,
  ) {
    super(message);
  }
}

/** The enclosure is larger than the podcast's maximum: trying again will not help. */
export class TooLargeError extends PodlineError {}

const mb = (bytes: number) => `${Math.round(bytes / 1e6)} MB`;

/** Pass-through that hashes, counts, enforces the size cap and checks the first bytes look like audio (or video). */
function inspector(url: string, onBytes: (n: number) => void, opts: Pick<DownloadOptions, 'maxBytes' | 'video'>) {
  const acceptable = (head: Buffer): Error | undefined => {
    if (looksLikeVideo(head)) return opts.video ? undefined : new NotAudioError(`${url} is a video, not audio`, true);
    if (looksLikeAudio(head)) return undefined;
    return new NotAudioError(`${url} is not ${opts.video ? 'audio or video' : 'audio'} (got ${describeHead(head)})`);
  };
  const hash = createHash('sha256');
  let head = Buffer.alloc(0);
  let checked = false;
  let size = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _enc, done) {
      if (!checked) {
        head = Buffer.concat([head, chunk.subarray(0, AUDIO_SNIFF_BYTES)]).subarray(0, AUDIO_SNIFF_BYTES);
        if (head.length >= AUDIO_SNIFF_BYTES) {
          checked = true;
          const bad = acceptable(head);
          if (bad) return done(bad);
        }
      }
      size += chunk.length;
      if (opts.maxBytes !== undefined && size > opts.maxBytes) return done(new TooLargeError(`${url} is larger than ${mb(opts.maxBytes)}; refused`));
      hash.update(chunk);
      onBytes(size);
      done(null, chunk);
    },
    flush(done) {
      if (!checked && !size) return done(new NotAudioError(`${url} is empty`));
      if (!checked) {
        const bad = acceptable(head);
        if (bad) return done(bad);
      }
      done();
    },
  });
  return { stream, size: () => size, result: () => ({ size, sha256: hash.digest('hex') }) };
}

/** Remove temp files of `dest` left by runs that were killed (their process is gone). */
export async function removeStaleTemps(dest: string): Promise<number> {
  const dir = path.dirname(dest);
  const prefix = `.${path.basename(dest)}.`;
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    if (!name.startsWith(prefix) || !isStaleTemp(name)) continue;
    await fsp.rm(path.join(dir, name), { force: true });
    removed++;
  }
  return removed;
}

async function attempt(url: string, dest: string, opts: DownloadOptions): Promise<DownloadedFile> {
  const res = await openUrl(url, {
    timeoutMs: opts.timeoutMs,
    signal: opts.signal,
    headers: { Accept: opts.video ? 'video/*, audio/*, */*;q=0.5' : 'audio/*, */*;q=0.5' },
    policy: opts.policy ?? { allowPrivateAddresses: false },
  });
  const type = (res.headers['content-type'] ?? '').split(';')[0].trim();
  if (/^text\/html/i.test(type) || (!opts.video && /^video\//i.test(type))) {
    res.body.destroy();
    throw new NotAudioError(`${url} is not audio (served ${type})`, /^video\//i.test(type));
  }
  if (opts.maxBytes !== undefined && res.length !== undefined && res.length > opts.maxBytes) {
    res.body.destroy();
    throw new TooLargeError(`${url} is ${mb(res.length)}, larger than ${mb(opts.maxBytes)}; refused`);
  }
  const total = res.length ?? opts.feedLength;
  const check = inspector(url, (n) => opts.onProgress?.(n, total), opts);
  const tmp = tempPathFor(dest);
  try {
    await pipeline(res.body, check.stream, createWriteStream(tmp, { flush: true }));
    const got = check.result();
    if (res.length !== undefined && got.size !== res.length) {
      throw new FetchError(`${url} was cut off after ${got.size} of ${res.length} bytes`, url, { retryable: true });
    }
    if (res.length === undefined && opts.feedLength && got.size < opts.feedLength) {
      throw new FetchError(`${url} ended after ${got.size} bytes; the feed says ${opts.feedLength}`, url, { retryable: true });
    }
    await fsp.rename(tmp, dest);
    return got;
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    if (opts.signal?.aborted) throw new DeadlineError();
    throw err instanceof NotAudioError || err instanceof TooLargeError ? err : describeStreamError(err, url, check.size(), res.length);
  }
}

/**
 * Download `url` to `dest`: streamed to a temp file beside it, hashed on the way, verified (complete, non-empty,
 * looks like audio) and only then renamed into place. Network errors, 429 and 5xx are retried with back-off.
 * A kill at any instant leaves at most a temp file (removed by the next run), never a partial `dest`.
 */
export async function downloadAudio(url: string, dest: string, opts: DownloadOptions): Promise<DownloadedFile> {
  await fsp.mkdir(path.dirname(dest), { recursive: true });
  await removeStaleTemps(dest);
  return withRetry(() => attempt(url, dest, opts), { ...opts.retry, signal: opts.signal }, opts.onRetry);
}

/** Size and sha256 of a local file, streamed; with its first bytes for the audio check. */
export async function hashFile(file: string): Promise<DownloadedFile & { head: Buffer }> {
  const hash = createHash('sha256');
  let size = 0;
  let head = Buffer.alloc(0);
  for await (const chunk of createReadStream(file)) {
    const b = chunk as Buffer;
    if (head.length < AUDIO_SNIFF_BYTES) head = Buffer.concat([head, b.subarray(0, AUDIO_SNIFF_BYTES - head.length)]);
    size += b.length;
    hash.update(b);
  }
  return { size, sha256: hash.digest('hex'), head };
}
