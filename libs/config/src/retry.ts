/**
 * Retry with exponential back-off, the one implementation (feeds and storage each give their policy).
 * Deliberate differences are options: which errors are retried, how many times per kind of error, the jitter
 * ("full": a random wait up to the step, as AWS advises for its APIs; "equal": half fixed, half random), a wait
 * a server asked for (Retry-After), a step that does not grow for some errors, a deadline and an abort signal.
 */
export interface RetryPolicy {
  /** Attempts after the first. */
  retries: number;
  /** First back-off step; doubles each attempt. */
  baseMs: number;
  /** Longest single wait (also caps a server's Retry-After). */
  maxMs: number;
  jitter?: 'full' | 'equal';
  /** No retry starts after this instant (epoch ms). */
  deadlineAt?: number;
  /** Aborted: no further attempt, and a wait ends at once with `abortError()`. */
  signal?: AbortSignal;
  /** Injected in tests; Math.random otherwise. */
  random?: () => number;
  /** Injected in tests; a timer otherwise. */
  sleep?: (ms: number) => Promise<void>;
}

/** How one caller judges its errors. */
export interface RetryRules {
  /** Whether this error may go away by trying again. */
  retryable: (err: unknown) => boolean;
  /** Attempts after the first for this error (default: the policy's `retries`). */
  retriesFor?: (err: unknown, policy: RetryPolicy) => number;
  /** True when the step should not grow for this error (e.g. a timeout: each try already costs a whole timeout). */
  flatStep?: (err: unknown) => boolean;
  /** The wait this error asks for (a server's Retry-After), when longer than the back-off. */
  askedWaitMs?: (err: unknown) => number | undefined;
  /** The error an abort during a wait ends with. */
  abortError?: () => Error;
  /** Hears about each failed attempt before the wait (attempt counts from 0). */
  onRetry?: (err: unknown, attempt: number, waitMs: number) => void;
}

/** The wait before retry number `attempt + 1`. */
export function backoffMs(attempt: number, policy: RetryPolicy, rules: Pick<RetryRules, 'flatStep' | 'askedWaitMs'>, err?: unknown): number {
  const step = Math.min(policy.maxMs, policy.baseMs * 2 ** (rules.flatStep?.(err) ? 0 : attempt));
  const random = (policy.random ?? Math.random)();
  const jittered = policy.jitter === 'full' ? random * step : step / 2 + random * (step / 2);
  return Math.min(policy.maxMs, Math.max(jittered, rules.askedWaitMs?.(err) ?? 0));
}

function sleepFor(ms: number, signal: AbortSignal | undefined, abortError: () => Error): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(abortError());
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Run `op` until it succeeds or an error is not worth another try; the last error is thrown. */
export async function retry<T>(op: (attempt: number) => Promise<T>, policy: RetryPolicy, rules: RetryRules): Promise<T> {
  const abortError = rules.abortError ?? (() => new Error('aborted'));
  for (let attempt = 0; ; attempt++) {
    try {
      return await op(attempt);
    } catch (err) {
      const limit = rules.retriesFor?.(err, policy) ?? policy.retries;
      if (attempt >= limit || !rules.retryable(err) || policy.signal?.aborted) throw err;
      const wait = Math.round(backoffMs(attempt, policy, rules, err));
      if (policy.deadlineAt !== undefined && Date.now() + wait >= policy.deadlineAt) throw err;
      rules.onRetry?.(err, attempt, wait);
      await (policy.sleep ? policy.sleep(wait) : sleepFor(wait, policy.signal, abortError));
    }
  }
}
