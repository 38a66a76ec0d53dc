/** `web/site.json`: what the page needs to start. Short-cached; every file it names is content-hashed. */
export interface SiteJson {
  /** The page's format, the web index's (WEB_INDEX_FORMAT): a page of another one is rebuilt. */
  format: number;
  site: { id: string; title: string };
  podcasts: Array<{ id: string; title: string }>;
  /**
   * The web index, relative to the page: its size, page size, how many bytes to read first when opening it
   * (the header and the roots of its tables: `head`), the rank cap and result limit it was built for.
   */
  index: { file: string; bytes: number; pageSize: number; head: number; rankCap: number; limit: number; episodes: number; entries: number };
  /**
   * The page's script, relative to the page (brotli, `.br`). Pages of format 1 also had a SQLite worker and
   * wasm (`worker`, `wasm`): still read to prune them.
   */
  assets: { app?: string; worker?: string; wasm?: string };
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
