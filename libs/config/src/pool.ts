/**
 * Bounded concurrency, the one implementation: run `fn` over `items` with at most `limit` at once and return
 * the results in input order. A failure of `fn` rejects the whole call; with `stopOnError` (the default) no
 * new item starts after it, and it is rethrown once the running ones have settled.
 */
export async function mapLimit<I, O>(
  items: readonly I[],
  limit: number,
  fn: (item: I, index: number) => Promise<O>,
  options: { stopOnError?: boolean } = {},
): Promise<O[]> {
  const stopOnError = options.stopOnError ?? true;
  const out = new Array<O>(items.length);
  let next = 0;
  let failure: { err: unknown } | undefined;
  const worker = async () => {
    while (!(stopOnError && failure) && next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i], i);
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure) throw failure.err;
  return out;
}
