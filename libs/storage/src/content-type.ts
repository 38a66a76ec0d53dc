import * as path from 'node:path';

const TYPES: Record<string, string> = {
  '.mp3': 'audio/mpeg',
  '.m4a': 'audio/mp4',
  '.ogg': 'audio/ogg',
  '.srt': 'application/x-subrip',
  '.vtt': 'text/vtt',
  '.json': 'application/json',
  '.xml': 'application/rss+xml',
  '.sqlite': 'application/vnd.sqlite3',
  '.txt': 'text/plain; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
};

/** Precompressed files of the search page: `web/…/<name>.<ext>.br` is `<name>.<ext>` stored brotli-encoded. */
const ENCODINGS: Record<string, string> = { '.br': 'br', '.gz': 'gzip' };

/**
 * Content-Encoding a site key is stored with: only the search page's precompressed files (`web/….br`,
 * `web/….gz`) have one; the bucket serves them as they are, and browsers decode them.
 */
export function contentEncodingFor(key: string): string | undefined {
  return key.startsWith('web/') ? ENCODINGS[path.extname(key).toLowerCase()] : undefined;
}

/** Content-Type for a site key, by extension (a precompressed file's is that of what it decodes to). */
export function contentTypeFor(key: string): string {
  const inner = contentEncodingFor(key) ? key.slice(0, -path.extname(key).length) : key;
  return TYPES[path.extname(inner).toLowerCase()] ?? 'application/octet-stream';
}
