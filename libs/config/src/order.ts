/**
 * The one order of keys (bucket keys, file keys, episode keys) in every state file and listing: by UTF-16
 * code units, as `Array.prototype.sort()` does — never by locale, so a state file is the same on every machine.
 */
export const compareKeys = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** `compareKeys` for anything with a `key`. */
export const byKey = (a: { key: string }, b: { key: string }): number => compareKeys(a.key, b.key);
