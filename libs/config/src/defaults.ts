/**
 * `given` over `defaults`, where an option left undefined takes its default. Each lib keeps every default of
 * its options in one frozen object and resolves them with this in one `resolve…Options` function; the
 * executors' schema.json files repeat the defaults for `--help`, and a spec checks they agree.
 */
export function withDefaults<T extends object>(defaults: Readonly<Required<T>>, given: T | undefined): Required<T> {
  const out = { ...defaults } as Required<T>;
  for (const [k, v] of Object.entries(given ?? {})) {
    if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  }
  return out;
}
