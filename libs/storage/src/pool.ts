import { mapLimit } from '@podline/config';

/**
 * Run `fn` over `items` with at most `concurrency` in flight (config's `mapLimit`). `fn` failures are the
 * caller's to catch; a thrown error stops new work from starting and is rethrown once running work has settled.
 */
export async function runPool<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  await mapLimit(items, concurrency, fn);
}
