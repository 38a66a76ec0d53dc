/**
 * Error classification and retries. The SDK's own retries are off (maxAttempts 1) so that there is one
 * retry policy for every request and for whole streamed transfers, and so fatal errors stop at once.
 */

import { PodlineError, retry } from '@podline/config';
import { QUEUE_RESULTS_FOLDER } from './keys';

export type ErrorKind = 'auth' | 'no-bucket' | 'retryable' | 'not-found' | 'other';

/** An error that stops the whole site run (no point trying the next file): bad credentials, missing bucket. */
export class StorageError extends PodlineError {
  constructor(
    readonly kind: ErrorKind,
    message: string,
    fix?: string,
    cause?: unknown,
  ) {
    super(message, { fix, cause });
  }
}

const AUTH_CODES = new Set([
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'AccessDenied',
  'ExpiredToken',
  'ExpiredTokenException',
  'InvalidToken',
  'TokenRefreshRequired',
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'CredentialsProviderError',
  'AuthorizationHeaderMalformed',
]);
const RETRYABLE_CODES = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'RequestThrottled',
  'TooManyRequestsException',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'InternalError',
  'ServiceUnavailable',
  'NetworkingError',
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ECONNABORTED',
  'ERR_STREAM_PREMATURE_CLOSE',
  'IncompleteBody',
]);

interface SdkLikeError {
  name?: string;
  Code?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $response?: { statusCode?: number };
}

function errorCode(err: unknown): string {
  const e = (err ?? {}) as SdkLikeError;
  return e.Code || e.code || e.name || 'Error';
}

function httpStatus(err: unknown): number | undefined {
  const e = (err ?? {}) as SdkLikeError;
  return e.$metadata?.httpStatusCode ?? e.$response?.statusCode;
}

export function classifyError(err: unknown): ErrorKind {
  if (err instanceof StorageError) return err.kind;
  // Another layer's Podline error (e.g. a failed role assumption from the credentials provider) is its
  // final verdict on the credentials: not retried.
  if (err instanceof PodlineError) return 'auth';
  const code = errorCode(err);
  const status = httpStatus(err);
  if (AUTH_CODES.has(code) || status === 401 || status === 403) return 'auth';
  if (code === 'NoSuchBucket') return 'no-bucket';
  if (code === 'NoSuchKey' || code === 'NotFound' || code === 'ENOENT') return 'not-found';
  if (RETRYABLE_CODES.has(code) || (status !== undefined && (status >= 500 || status === 429))) return 'retryable';
  // The SDK's "socket hang up" and friends carry no code on some paths.
  if (/socket hang up|ECONNRESET|timed? ?out|premature close/i.test((err as SdkLikeError)?.message ?? '')) return 'retryable';
  return 'other';
}

export function describeError(err: unknown): string {
  const code = errorCode(err);
  const status = httpStatus(err);
  const msg = (err as SdkLikeError)?.message ?? String(err);
  return `${code}${status ? ` (HTTP ${status})` : ''}${msg && msg !== code ? `: ${msg}` : ''}`;
}

export interface RetryOptions {
  /** Retries after the first attempt (default 4). */
  retries?: number;
  /** First backoff ceiling, doubled per attempt (default 200 ms). */
  baseDelayMs?: number;
  /** Backoff ceiling (default 10 s). */
  maxDelayMs?: number;
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  /** Injected for unit tests. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

/**
 * Run `op`, retrying only retryable failures (5xx, 429/SlowDown, timeouts, network) with exponential
 * backoff and full jitter (config's `retry`). Auth and missing-bucket errors are thrown at once: no retry storm.
 */
export function withRetries<T>(op: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  return retry(
    op,
    { retries: options.retries ?? 4, baseMs: options.baseDelayMs ?? 200, maxMs: options.maxDelayMs ?? 10_000, jitter: 'full', sleep: options.sleep, random: options.random },
    { retryable: (err) => classifyError(err) === 'retryable', onRetry: (err, attempt, delay) => options.onRetry?.(err, attempt + 1, delay) },
  );
}

/** Whether an error of a backend means the object is not there (S3 NoSuchKey, a missing file). */
export function isNotFound(err: unknown): boolean {
  return classifyError(err) === 'not-found';
}

/**
 * readTemp/removeTemp asked for a key that is not one of Podline's own temp objects (`isOwnTempKey`): refused,
 * nothing read or deleted. Names the key, where, and what to do.
 */
export function notOwnTempError(key: string, where: string, verb: 'read' | 'delete'): StorageError {
  return new StorageError(
    'other',
    `refusing to ${verb} "${key}" in ${where}: only Podline's own temp objects (${QUEUE_RESULTS_FOLDER}/…) are ${verb === 'read' ? 'read' : 'ever deleted'} this way`,
    verb === 'read'
      ? `nothing was read: a queue result names a key under ${QUEUE_RESULTS_FOLDER}/; check the job that named this one (its worker may be of another version), then run again`
      : 'nothing was deleted: remove that object yourself if it should go',
  );
}

/** readTemp met a temp object over its size limit (`size` undefined: it kept coming past it): nothing more is read. */
export function tempTooLargeError(key: string, where: string, maxBytes: number, size?: number): StorageError {
  return new StorageError(
    'other',
    size === undefined ? `${key} in ${where} is more than the ${maxBytes} bytes a temp object may hold` : `${key} in ${where} is ${size} bytes, more than the ${maxBytes} a temp object may hold`,
    'it was not read (no worker writes a result that large): check that object, delete it if it is not a queue result, then run again',
  );
}
