import { createReadStream, promises as fsp } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { createBrotliDecompress, createGunzip } from 'node:zlib';
import { contentEncodingFor, contentTypeFor } from '@podline/storage';
import { isContentHashed, SHORT_CACHE_FILES, WEB_FOLDER } from './layout';

/**
 * A static file server for a bucket folder, behaving as the page needs its host to (and as CloudFront in
 * front of S3 does): single byte ranges (206 + Content-Range, 416 past the end), HEAD with Content-Length,
 * no compression on the fly (range offsets are the file's bytes; precompressed `.br` files carry their
 * Content-Encoding), `Accept-Ranges` and `Content-Range` exposed to
 * cross-origin readers, long immutable caching for content-hashed files and revalidation for the rest.
 * Only `public` key prefixes are served; paths never leave the root, through `..` or symlinks.
 */
export interface StaticServerOptions {
  root: string;
  port?: number;
  host?: string;
  /** Key prefixes served (default: the page and the audio). Everything else is 404. */
  public?: string[];
  /**
   * Called once per request, when its response is written: method, path, status, body bytes sent (as stored:
   * compressed for precompressed files) and `wire`, every byte written to the connection for it (status
   * line, headers, body). The benchmark counts with it.
   */
  onRequest?: (info: { method: string; path: string; status: number; bytes: number; wire: number; range?: string }) => void;
}

export interface StaticServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

export const DEFAULT_PUBLIC_PREFIXES = [`${WEB_FOLDER}/`, 'audio/'];

/** Cache-Control for a key under web/ or audio/ (also what the CloudFront setup sends). */
export function cacheControlFor(key: string): string {
  const base = key.split('/').pop() ?? '';
  if (key.startsWith(`${WEB_FOLDER}/`) && isContentHashed(base)) return 'public, max-age=31536000, immutable';
  if (key.startsWith(`${WEB_FOLDER}/`) && SHORT_CACHE_FILES.includes(base)) return 'public, max-age=60, must-revalidate';
  return 'public, max-age=3600';
}

/** Parse one `bytes=` range against a size: [start, end] inclusive, 'unsatisfiable', or undefined (serve all). */
export function parseRange(header: string | undefined, size: number): [number, number] | 'unsatisfiable' | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return undefined; // several ranges or another unit: the whole file, as RFC 9110 allows
  const [, a, b] = m;
  if (a === '' && b === '') return undefined;
  let start: number;
  let end: number;
  if (a === '') {
    const n = Number(b);
    if (n === 0) return 'unsatisfiable';
    start = Math.max(0, size - n);
    end = size - 1;
  } else {
    start = Number(a);
    end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  }
  if (start >= size || start > end) return 'unsatisfiable';
  return [start, end];
}

/** Does an Accept-Encoding header accept `encoding` (listed, or `*`, with q > 0)? */
export function acceptsEncoding(header: string | string[] | undefined, encoding: string): boolean {
  const list = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',');
  return list.some((item) => {
    const [name, ...params] = item.trim().toLowerCase().split(';');
    const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
    return (name.trim() === encoding || name.trim() === '*') && (q === undefined || Number(q) > 0);
  });
}

async function resolveInside(root: string, urlPath: string): Promise<string | undefined> {
  let key: string;
  try {
    key = decodeURIComponent(urlPath).replace(/^\/+/, '');
  } catch {
    return undefined;
  }
  if (key.includes('\0') || key.split('/').some((seg) => seg === '..' || seg === '.')) return undefined;
  const file = path.join(root, ...key.split('/'));
  try {
    const real = await fsp.realpath(file);
    const realRoot = await fsp.realpath(root);
    if (real !== realRoot && !real.startsWith(realRoot + path.sep)) return undefined;
    return real;
  } catch {
    return undefined;
  }
}

export function startStaticServer(options: StaticServerOptions): Promise<StaticServer> {
  const prefixes = options.public ?? DEFAULT_PUBLIC_PREFIXES;
  const server = http.createServer(async (req, res) => {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://localhost');
    let sent = 0;
    const socket = req.socket;
    const startBytes = socket.bytesWritten;
    let reported = false;
    const done = (status: number, range?: string) => {
      const report = () => {
        if (reported) return;
        reported = true;
        options.onRequest?.({ method, path: url.pathname, status, bytes: sent, wire: socket.bytesWritten - startBytes, range });
      };
      if (res.writableFinished) report();
      else {
        res.once('finish', report);
        res.once('close', report);
      }
    };
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Access-Control-Expose-Headers', 'Accept-Ranges, Content-Range, Content-Length, ETag');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    if (method === 'OPTIONS') {
      res.writeHead(204, { 'Access-Control-Allow-Methods': 'GET, HEAD', 'Access-Control-Allow-Headers': 'Range', 'Access-Control-Max-Age': '86400' }).end();
      return done(204);
    }
    if (method !== 'GET' && method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD, OPTIONS' }).end();
      return done(405);
    }
    const key = url.pathname.replace(/^\/+/, '');
    const notFound = () => {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end(method === 'HEAD' ? undefined : 'not found\n');
      done(404);
    };
    // A folder URL is its index.html (as CloudFront's default root object and S3 website index do).
    if (key === '' || key === WEB_FOLDER) {
      res.writeHead(302, { Location: `/${WEB_FOLDER}/` }).end();
      return done(302);
    }
    const wanted = key.endsWith('/') ? `${key}index.html` : key;
    if (!prefixes.some((p) => wanted.startsWith(p))) return notFound();
    const file = await resolveInside(options.root, `/${wanted}`);
    const stat = file ? await fsp.stat(file).catch(() => undefined) : undefined;
    if (!file || !stat?.isFile()) return notFound();
    const size = stat.size;
    const etag = `"${size.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}"`;
    const headers: http.OutgoingHttpHeaders = {
      'Content-Type': contentTypeFor(wanted),
      'Accept-Ranges': 'bytes',
      'Cache-Control': cacheControlFor(wanted),
      ETag: etag,
      'Last-Modified': stat.mtime.toUTCString(),
    };
    // Precompressed files (…js.br) go out as stored, with their Content-Encoding, as S3 and CloudFront send
    // them; a client that does not accept the encoding gets them decoded (whole, no ranges).
    const encoding = contentEncodingFor(wanted);
    if (encoding) {
      headers.Vary = 'Accept-Encoding';
      if (!acceptsEncoding(req.headers['accept-encoding'], encoding)) {
        res.writeHead(200, { ...headers, 'Accept-Ranges': 'none' });
        if (method === 'HEAD') {
          res.end();
          return done(200);
        }
        const decoded = createReadStream(file).pipe(encoding === 'br' ? createBrotliDecompress() : createGunzip());
        decoded.on('data', (chunk: Buffer) => (sent += chunk.length));
        decoded.on('error', () => res.destroy());
        decoded.on('end', () => done(200));
        decoded.pipe(res);
        return;
      }
      headers['Content-Encoding'] = encoding;
    }
    if (req.headers['if-none-match'] === etag && !req.headers.range) {
      res.writeHead(304, headers).end();
      return done(304);
    }
    const range = parseRange(req.headers.range, size);
    if (range === 'unsatisfiable') {
      res.writeHead(416, { ...headers, 'Content-Range': `bytes */${size}` }).end();
      return done(416, req.headers.range);
    }
    const [start, end] = range ?? [0, size - 1];
    const length = size === 0 ? 0 : end - start + 1;
    const status = range ? 206 : 200;
    res.writeHead(status, { ...headers, 'Content-Length': String(length), ...(range && { 'Content-Range': `bytes ${start}-${end}/${size}` }) });
    if (method === 'HEAD' || length === 0) {
      res.end();
      return done(status, req.headers.range);
    }
    const stream = createReadStream(file, { start, end });
    stream.on('data', (chunk) => (sent += chunk.length));
    stream.on('error', () => res.destroy());
    stream.on('end', () => done(status, req.headers.range));
    stream.pipe(res);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      const { port, address } = server.address() as AddressInfo;
      const host = address.includes(':') ? `[${address}]` : address;
      resolve({
        url: `http://${host}:${port}/`,
        port,
        close: () =>
          new Promise<void>((r) => {
            server.closeAllConnections();
            server.close(() => r());
          }),
      });
    });
  });
}
