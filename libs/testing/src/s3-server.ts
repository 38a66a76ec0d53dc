import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';

/** The access key pair the test server accepts (its built-in account). */
export const S3_TEST_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;
export const S3_TEST_REGION = 'us-east-1';

export interface S3TestServer {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  port: number;
  /** Folder holding the buckets' files (removed by stop()). */
  directory: string;
  /** A client as tests should make one: path-style, checksums only when required. */
  client(credentials?: { accessKeyId: string; secretAccessKey: string }): S3Client;
  createBucket(name: string): Promise<void>;
  /** Accept another access key pair (signatures are not checked, but the key id must be known). */
  addAccessKey(accessKeyId: string, secretAccessKey: string): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Start a real S3-compatible server on 127.0.0.1 (random port) in a child process.
 * The child needs Node's legacy OpenSSL provider, which a test runner's own process usually lacks.
 */
export async function startS3Server(): Promise<S3TestServer> {
  const directory = mkdtempSync(path.join(os.tmpdir(), 'podline-s3-'));
  const child = fork(path.join(__dirname, 's3-server-child.js'), [directory], {
    execArgv: ['--openssl-legacy-provider'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (msg: { port: number }) => resolve(msg.port));
    child.once('exit', (code) => reject(new Error(`the S3 test server exited early (code ${code})`)));
    child.once('error', reject);
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const clients: S3Client[] = [];
  const client = (credentials: { accessKeyId: string; secretAccessKey: string } = S3_TEST_CREDENTIALS) => {
    const c = new S3Client({
      endpoint,
      region: S3_TEST_REGION,
      forcePathStyle: true,
      credentials,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    clients.push(c);
    return c;
  };
  let admin: S3Client | undefined;
  return {
    endpoint,
    port,
    directory,
    client,
    async createBucket(name: string) {
      await (admin ??= client()).send(new CreateBucketCommand({ Bucket: name }));
    },
    addAccessKey(accessKeyId: string, secretAccessKey: string) {
      return new Promise<void>((resolve) => {
        const onMessage = (msg: { keyAdded?: string }) => {
          if (msg.keyAdded !== accessKeyId) return;
          child.off('message', onMessage);
          resolve();
        };
        child.on('message', onMessage);
        child.send({ addKey: { accessKeyId, secretAccessKey } });
      });
    },
    async stop() {
      for (const c of clients) c.destroy();
      if (child.exitCode === null) {
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.send('stop');
        await exited;
      }
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

/** What the fault proxy does with one request. */
export type ProxyAction =
  | 'pass'
  /** Answer with this status and an S3-style XML error, without forwarding. */
  | { status: number; code: string }
  /** Never answer (the client's timeout must fire). */
  | 'hang'
  /** Forward, but stop sending the response body after this many bytes and keep the socket open. */
  | { stallAfterBytes: number };

export interface ProxiedRequest {
  method: string;
  url: string;
}

export interface FaultProxy {
  endpoint: string;
  /** Every request seen, in arrival order. */
  requests: ProxiedRequest[];
  /** Decide per request (n counts from 0); default: pass everything. */
  rule: (req: ProxiedRequest, n: number) => ProxyAction;
  stop(): Promise<void>;
}

/**
 * A tiny loopback HTTP proxy in front of the test server, to produce faults a real server cannot be asked
 * for: 503s then recovery, requests that never answer, bodies that stop half-way.
 */
export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  const sockets = new Set<Socket>();
  const proxy: FaultProxy = { endpoint: '', requests: [], rule: () => 'pass', stop: async () => undefined };
  const server = http.createServer((req, res) => {
    const seen = { method: req.method ?? 'GET', url: req.url ?? '/' };
    const n = proxy.requests.length;
    proxy.requests.push(seen);
    const action = proxy.rule(seen, n);
    if (action === 'hang') {
      req.resume();
      return;
    }
    if (typeof action === 'object' && 'status' in action) {
      req.resume();
      req.on('end', () => {
        res.writeHead(action.status, { 'content-type': 'application/xml' });
        res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${action.code}</Code><Message>injected by the test proxy</Message></Error>`);
      });
      return;
    }
    const out = http.request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        if (typeof action === 'object' && 'stallAfterBytes' in action) {
          let sent = 0;
          up.on('data', (chunk: Buffer) => {
            const room = action.stallAfterBytes - sent;
            if (room > 0) res.write(chunk.subarray(0, room));
            sent += chunk.length;
          });
          return; // never end: the client sees a body that stops
        }
        up.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  proxy.endpoint = `http://127.0.0.1:${port}`;
  proxy.stop = async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return proxy;
}
