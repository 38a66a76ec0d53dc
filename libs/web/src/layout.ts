/** The site folder (and bucket prefix) holding the page: `web/index.html`, `web/site.json`, `web/assets/…`. */
export const WEB_FOLDER = 'web';
/** Files of the page whose names never change, so they are revalidated; everything else in web/ is content-hashed. */
export const SHORT_CACHE_FILES = ['index.html', 'site.json'];

/**
 * The names Podline gives the page's versioned files (relative to web/): the web index, and the script, the
 * SQLite worker and the wasm, plain or precompressed (`.br`). Only keys of this form are ever pruned.
 */
const VERSIONED = /^(?:index-[0-9a-f]{16}\.sqlite|assets\/(?:app|sqlite\.worker|sql-wasm)-[0-9a-f]{16}\.(?:js|wasm)(?:\.br)?)$/;

/** Is `rel` (relative to web/) a content-hashed file of the page, as Podline names them? */
export function isVersionedWebFile(rel: string): boolean {
  return VERSIONED.test(rel);
}

/** A content-hashed name (immutable): `<name>-<16 hex>.<ext>`, maybe precompressed. */
export function isContentHashed(base: string): boolean {
  return /-[0-9a-f]{16}\.[a-z0-9]+(?:\.br)?$/.test(base);
}
