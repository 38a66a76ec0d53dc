import { retry, type RetryPolicy as ConfigRetryPolicy } from '@podline/config';
import { DeadlineError, FetchError, isRetryable, isTimeout } from './http';

/**
 * The feeds' retry policy for config's one `retry`: equal jitter, a server's Retry-After honoured (capped),
 * a timeout retried at most `timeoutRetries` times without growing back-off, no retry after `deadlineAt` or
 * once `signal` is aborted (DeadlineError).
 */
export interface RetryPolicy extends ConfigRetryPolicy {
  /**
   * Attempts after a timeout (at most `retries`). Default 1: a host that stalls once usually stalls again, and
   * each try costs a whole timeout, so timeouts are retried less (and without growing back-off) than a 5xx.
   */
  timeoutRetries?: number;
}

export const DEFAULT_RETRY: RetryPolicy = { retries: 3, baseMs: 1000, maxMs: 30_000, timeoutRetries: 1, jitter: 'equal' };

/**
 * Run `fn` until it succeeds, retrying only what `retryable` accepts (network errors, 429, 5xx by default).
 * `onRetry` hears about each failed attempt before the wait.
 */
export function withRetry<T>(
  fn: (attempt: number) => Promise<T>,
  policy: RetryPolicy,
  onRetry?: (err: unknown, attempt: number, waitMs: number) => void,
  retryable: (err: unknown) => boolean = isRetryable,
): Promise<T> {
  return retry(fn, { jitter: 'equal', ...policy }, {
    retryable,
    retriesFor: (err) => (isTimeout(err) ? Math.min(policy.retries, policy.timeoutRetries ?? 1) : policy.retries),
    flatStep: isTimeout,
    askedWaitMs: (err) => (err instanceof FetchError ? err.retryAfterMs : undefined),
    abortError: () => new DeadlineError(),
    onRetry,
  });
}
