import { DeadlineError, FetchError, isRetryable, isTimeout } from './http';

export interface RetryPolicy {
  /** Attempts after the first. */
  retries: number;
  /** First back-off; doubles each attempt. */
  baseMs: number;
  /** Longest single wait (also caps a server's Retry-After). */
  maxMs: number;
  /**
   * Attempts after a timeout (at most `retries`). Default 1: a host that stalls once usually stalls again, and
   * each try costs a whole timeout, so timeouts are retried less (and without growing back-off) than a 5xx.
   */
  timeoutRetries?: number;
  /** No retry starts after this instant (epoch ms): the feed's or the run's deadline. */
  deadlineAt?: number;
  /** Aborted: no further attempt, the wait ends at once (DeadlineError). */
  signal?: AbortSignal;
  /** Injected in tests; Math.random otherwise. */
  random?: () => number;
}

export const DEFAULT_RETRY: RetryPolicy = { retries: 3, baseMs: 1000, maxMs: 30_000, timeoutRetries: 1 };

/** Exponential back-off with "equal jitter": half the step fixed, half random; a server's Retry-After wins when longer. */
function backoffMs(attempt: number, policy: RetryPolicy, err?: unknown): number {
  const step = Math.min(policy.maxMs, policy.baseMs * 2 ** (isTimeout(err) ? 0 : attempt));
  const jittered = step / 2 + (policy.random ?? Math.random)() * (step / 2);
  const asked = err instanceof FetchError ? err.retryAfterMs : undefined;
  return Math.min(policy.maxMs, Math.max(jittered, asked ?? 0));
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(new DeadlineError());
    const onAbort = () => {
      clearTimeout(timer);
      reject(new DeadlineError());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Run `fn` until it succeeds, retrying only what `retryable` accepts (network errors, 429, 5xx by default).
 * `onRetry` hears about each failed attempt before the wait.
 */
export async function withRetry<T>(
  fn: (attempt: number) => Promise<T>,
  policy: RetryPolicy,
  onRetry?: (err: unknown, attempt: number, waitMs: number) => void,
  retryable: (err: unknown) => boolean = isRetryable,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      const limit = isTimeout(err) ? Math.min(policy.retries, policy.timeoutRetries ?? 1) : policy.retries;
      if (attempt >= limit || !retryable(err) || policy.signal?.aborted) throw err;
      const wait = backoffMs(attempt, policy, err);
      if (policy.deadlineAt !== undefined && Date.now() + wait >= policy.deadlineAt) throw err;
      onRetry?.(err, attempt, wait);
      await sleep(wait, policy.signal);
    }
  }
}

/** Run `fn` over `items` with at most `limit` at once; results in input order. */
export async function mapLimit<I, O>(items: readonly I[], limit: number, fn: (item: I, index: number) => Promise<O>): Promise<O[]> {
  const out = new Array<O>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}
