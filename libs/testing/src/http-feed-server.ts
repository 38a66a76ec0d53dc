/**
 * A real HTTP server on 127.0.0.1 for feeds and enclosures, with programmable faults.
 *
 *   const server = await startFeedServer();
 *   server.route('/feed.xml', { body: xml, contentType: 'application/rss+xml', etag: true });
 *   server.route('/a.mp3', { body: fakeMp3(10_000) });
 *   server.route('/flaky.xml', [{ status: 503 }, { status: 500 }, { body: xml }]); // one spec per request, last repeats
 *   server.route('/loop', { redirect: '/loop2' }); server.route('/loop2', { redirect: '/loop' });
 *   server.route('/hang', { hang: true });                       // headers never come
 *   server.route('/cut.mp3', { body: fakeMp3(10_000), cutAfter: 4000 }); // Content-Length 10000, socket dropped at 4000
 *   server.route('/big.mp3', { generate: 300e6 });               // 300 MB generated while streaming, never in memory
 *   server.route('/audio/*', { body: fakeMp3(100) });            // prefix route
 *   server.route('/feed.xml', { body: xml, gzip: true });        // gzip when the client accepts it
 *   fetch(server.url('/feed.xml')); server.count('/feed.xml'); server.requests; await server.close();
 *
 * Routes can be replaced at any time (`route` again); `requests` logs every request with its headers and answer.
 */
import { createHash } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { gzipSync } from 'node:zlib';

export interface RouteSpec {
  /** Default 200 (or 302 with `redirect`). */
  status?: number;
  body?: string | Buffer;
  /** Generate a body of this many bytes while streaming (an MP3-looking ID3 header, then deterministic bytes). */
  generate?: number;
  contentType?: string;
  headers?: Record<string, string>;
  /** ETag: a string, or true to use a hash of the body. A matching If-None-Match gets 304. */
  etag?: string | true;
  /** Last-Modified (HTTP date). A matching If-Modified-Since gets 304. */
  lastModified?: string;
  /** Send Location: <redirect> (relative to this server when it starts with '/'). */
  redirect?: string;
  /** Never answer (the request hangs until the client gives up or the server closes). */
  hang?: boolean;
  /** Send headers and this many body bytes, then stall forever. */
  stallAfter?: number;
  /** Send headers (full Content-Length) and this many body bytes, then drop the connection. */
  cutAfter?: number;
  /** No Content-Length: chunked transfer. */
  chunked?: boolean;
  /** Wait before answering (ms). */
  delayMs?: number;
  /** Send `body` gzip-compressed (Content-Encoding: gzip) when the request accepts gzip. */
  gzip?: boolean;
}

export interface LoggedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  status: number;
}

export interface FeedServer {
  /** http://127.0.0.1:<port> */
  readonly origin: string;
  url(path: string): string;
  /** Set (or replace) what a path answers. An array answers one spec per request; the last one repeats. */
  route(path: string, spec: RouteSpec | RouteSpec[]): void;
  /** Requests so far, in order. */
  readonly requests: LoggedRequest[];
  /** Requests to one path (or all). */
  count(path?: string): number;
  /** Forget the request log. */
  resetRequests(): void;
  close(): Promise<void>;
}

/** Bytes that pass an audio check: an ID3v2 header, then a deterministic pattern. */
export function fakeMp3(size: number, seed = 1): Buffer {
  const out = Buffer.alloc(size);
  fillAudio(out, 0, seed);
  return out;
}

const ID3_HEADER = Buffer.from([0x49, 0x44, 0x33, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]);

/** Fill `buf` as bytes [offset, offset+buf.length) of the generated audio stream for `seed`. */
function fillAudio(buf: Buffer, offset: number, seed: number): void {
  for (let i = 0; i < buf.length; i++) {
    const pos = offset + i;
    buf[i] = pos < ID3_HEADER.length ? ID3_HEADER[pos] : (pos * 31 + seed * 7 + (pos >> 8)) & 0xff;
  }
}

/** sha256 of the body `generate: size` streams (computed by generating it again, chunk by chunk). */
export function generatedSha256(size: number, seed = 1): string {
  const hash = createHash('sha256');
  const chunk = Buffer.alloc(1 << 20);
  for (let off = 0; off < size; off += chunk.length) {
    const part = chunk.subarray(0, Math.min(chunk.length, size - off));
    fillAudio(part, off, seed);
    hash.update(part);
  }
  return hash.digest('hex');
}

/** Stream bytes [0, limit) of the generated audio, 64 kB at a time, respecting back-pressure. */
function streamGenerated(res: http.ServerResponse, limit: number, onDone: () => void): void {
  let off = 0;
  const pump = () => {
    while (off < limit) {
      const part = Buffer.alloc(Math.min(64 * 1024, limit - off));
      fillAudio(part, off, 1);
      off += part.length;
      if (!res.write(part)) {
        res.once('drain', pump);
        return;
      }
    }
    onDone();
  };
  pump();
}

export async function startFeedServer(): Promise<FeedServer> {
  const routes = new Map<string, { specs: RouteSpec[]; served: number }>();
  const requests: LoggedRequest[] = [];
  const sockets = new Set<Socket>();

  const find = (path: string) => {
    const exact = routes.get(path);
    if (exact) return exact;
    let best: { specs: RouteSpec[]; served: number } | undefined;
    let bestLen = -1;
    for (const [p, r] of routes) {
      if (p.endsWith('*') && path.startsWith(p.slice(0, -1)) && p.length > bestLen) {
        best = r;
        bestLen = p.length;
      }
    }
    return best;
  };

  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const route = find(path);
    const log: LoggedRequest = { method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, status: 0 };
    requests.push(log);
    if (!route) {
      log.status = 404;
      res.writeHead(404, { 'Content-Type': 'text/html' }).end('<!DOCTYPE html><html><body>Not found</body></html>');
      return;
    }
    const spec = route.specs[Math.min(route.served, route.specs.length - 1)];
    route.served++;
    const answer = () => {
      if (spec.hang) return; // the socket stays open: the client must time out
      let body = typeof spec.body === 'string' ? Buffer.from(spec.body) : spec.body;
      const headers: Record<string, string> = { ...(spec.headers ?? {}) };
      if (spec.gzip && body && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) {
        body = gzipSync(body);
        headers['Content-Encoding'] = 'gzip';
      }
      if (spec.contentType) headers['Content-Type'] = spec.contentType;
      if (spec.redirect) {
        log.status = spec.status ?? 302;
        res.writeHead(log.status, { ...headers, Location: spec.redirect.startsWith('/') ? `${origin}${spec.redirect}` : spec.redirect }).end();
        return;
      }
      const etag = spec.etag === true ? `"${createHash('sha1').update(body ?? String(spec.generate ?? '')).digest('hex').slice(0, 16)}"` : spec.etag;
      if (etag) headers.ETag = etag;
      if (spec.lastModified) headers['Last-Modified'] = spec.lastModified;
      const status = spec.status ?? 200;
      const notModified =
        status === 200 &&
        ((etag && req.headers['if-none-match'] === etag) || (!etag && spec.lastModified && req.headers['if-modified-since'] === spec.lastModified));
      if (notModified) {
        log.status = 304;
        res.writeHead(304, headers).end();
        return;
      }
      log.status = status;
      const size = body ? body.length : spec.generate ?? 0;
      if (!spec.chunked) headers['Content-Length'] = String(size);
      res.writeHead(status, headers);
      const limit = spec.cutAfter ?? spec.stallAfter ?? size;
      const finish = () => {
        if (spec.cutAfter !== undefined) req.socket.end(); // flush what was written, then drop the connection
        else if (spec.stallAfter === undefined) res.end();
      };
      if (body) {
        res.write(body.subarray(0, Math.min(limit, body.length)));
        finish();
      } else if (spec.generate) {
        streamGenerated(res, Math.min(limit, spec.generate), finish);
      } else {
        finish();
      }
    };
    if (spec.delayMs) setTimeout(answer, spec.delayMs);
    else answer();
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    origin,
    url: (path) => `${origin}${path.startsWith('/') ? '' : '/'}${path}`,
    route: (path, spec) => {
      routes.set(path, { specs: Array.isArray(spec) ? spec : [spec], served: 0 });
    },
    requests,
    count: (path) => (path === undefined ? requests.length : requests.filter((r) => r.path.split('?')[0] === path).length),
    resetRequests: () => {
      requests.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
