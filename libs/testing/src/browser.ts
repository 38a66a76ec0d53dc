import chromium from '@sparticuz/chromium';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import puppeteer, { type Browser } from 'puppeteer-core';

/**
 * Headless Chromium from npm (@sparticuz/chromium carries the binary: nothing is downloaded), for tests and
 * benchmarks of the search page. Its Lambda flags are trimmed: one process per renderer (several pages and
 * browser contexts at once, workers doing synchronous reads), and web security left on, so CORS and the
 * page's Content-Security-Policy are what a listener's browser enforces.
 */
const DROPPED = new Set(['--single-process', '--disable-web-security', '--allow-running-insecure-content', '--disable-site-isolation-trials']);

export async function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  const lib = ((chromium as unknown as { default?: typeof chromium }).default ?? chromium) as typeof chromium;
  const args = lib.args.filter((a) => !DROPPED.has(a));
  return puppeteer.launch({
    executablePath: await lib.executablePath(),
    args: [...args, '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--mute-audio', ...extraArgs],
    headless: true,
  });
}

export interface RecordingProxy {
  /** Chromium flags sending every request (loopback included) through the proxy. */
  args: string[];
  /** Every URL the browser asked for, pages and workers alike. */
  seen: string[];
  /** Those outside `allowedOrigin` (refused with 403). */
  outside: string[];
  close(): Promise<void>;
}

/**
 * An HTTP proxy that sees every request the browser makes — the page's, its workers', media — forwards those
 * to `allowedOrigin` and refuses (and records) all others. Request interception in the page would not see a
 * worker's synchronous reads; a proxy does.
 */
export async function startRecordingProxy(allowedOrigin: string): Promise<RecordingProxy> {
  const seen: string[] = [];
  const outside: string[] = [];
  const server = http.createServer((req, res) => {
    let url: URL;
    try {
      url = new URL(req.url ?? '');
    } catch {
      res.writeHead(400).end();
      return;
    }
    seen.push(url.href);
    if (url.origin !== allowedOrigin) {
      outside.push(url.href);
      res.writeHead(403).end();
      return;
    }
    const headers = { ...req.headers };
    delete headers['proxy-connection'];
    const upstream = http.request({ host: url.hostname, port: url.port, path: url.pathname + url.search, method: req.method, headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  server.on('connect', (req: http.IncomingMessage, socket: import('node:net').Socket) => {
    seen.push(`CONNECT ${req.url}`);
    outside.push(`CONNECT ${req.url}`);
    socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    args: [`--proxy-server=http://127.0.0.1:${port}`, '--proxy-bypass-list=<-loopback>'],
    seen,
    outside,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
