/** `web/site.json`: what the page needs to start. Short-cached; every file it names is content-hashed. */
export interface SiteJson {
  format: 1;
  site: { id: string; title: string };
  podcasts: Array<{ id: string; title: string }>;
  /** The web index, relative to the page, its size and page size (the range-read chunk size). */
  index: { file: string; bytes: number; pageSize: number; rankCap: number; limit: number; episodes: number; entries: number };
  /** The page's script, and the worker script and wasm of the SQLite reader, relative to the page (brotli, `.br`). */
  assets: { app?: string; worker: string; wasm: string };
  /** Where the bucket's audio is, relative to the page: `<audioBase>audio/<podcast>/<fileKey>.mp3`. */
  audioBase: string;
  /** Digest of the FTS index this page's index was built from. */
  source: string;
  /** Every content-hashed file of this version, sorted (relative to the page's folder). */
  files?: string[];
  /**
   * Those of the version before (kept for tabs still open on it), and of the version still live in the bucket
   * when an upload held the one before back; older ones are removed.
   */
  previous?: string[];
}
