import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { brotliCompressSync } from 'node:zlib';
import { acceptsEncoding, cacheControlFor, parseRange, startStaticServer, type StaticServer } from './static-server';

function request(url: string, method = 'GET', headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the static server of serve (range requests as CloudFront + S3 give them)', () => {
  let root: string;
  let outside: string;
  let server: StaticServer;
  const data = Buffer.from(Array.from({ length: 10_000 }, (_, i) => i % 251));
  const script = 'console.log("the page");'.repeat(50);

  beforeAll(async () => {
    root = mkdtempSync(path.join(os.tmpdir(), 'podline-static-'));
    outside = mkdtempSync(path.join(os.tmpdir(), 'podline-static-outside-'));
    mkdirSync(path.join(root, 'web', 'assets'), { recursive: true });
    mkdirSync(path.join(root, 'audio', 'show'), { recursive: true });
    mkdirSync(path.join(root, 'transcripts'), { recursive: true });
    writeFileSync(path.join(root, 'web', 'index-0123456789abcdef.sqlite'), data);
    writeFileSync(path.join(root, 'web', 'index.html'), '<!doctype html>');
    writeFileSync(path.join(root, 'web', 'assets', 'app-0123456789abcdef.js.br'), brotliCompressSync(Buffer.from(script)));
    writeFileSync(path.join(root, 'audio', 'show', 'a.mp3'), data.subarray(0, 100));
    writeFileSync(path.join(root, 'transcripts', 'secret.srt'), 'private');
    writeFileSync(path.join(outside, 'x.txt'), 'outside');
    symlinkSync(path.join(outside, 'x.txt'), path.join(root, 'web', 'escape.txt'));
    server = await startStaticServer({ root });
  });
  afterAll(async () => {
    await server.close();
    rmSync(root, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });

  const db = () => `${server.url}web/index-0123456789abcdef.sqlite`;

  it('sends precompressed files as stored with their Content-Encoding, decoded for a client that does not accept it', async () => {
    const url = `${server.url}web/assets/app-0123456789abcdef.js.br`;
    const br = await request(url, 'GET', { 'Accept-Encoding': 'gzip, deflate, br' });
    expect([br.status, br.headers['content-encoding'], br.headers['content-type'], br.headers['cache-control']]).toEqual([200, 'br', 'text/javascript; charset=utf-8', 'public, max-age=31536000, immutable']);
    expect(br.body).toEqual(brotliCompressSync(Buffer.from(script)));
    const plain = await request(url, 'GET', { 'Accept-Encoding': 'gzip;q=1, br;q=0' });
    expect([plain.status, plain.headers['content-encoding'], plain.body.toString()]).toEqual([200, undefined, script]);
    expect(acceptsEncoding('*', 'br')).toBe(true);
    expect(acceptsEncoding(undefined, 'br')).toBe(false);
  });

  it('HEAD gives the length and range support, uncompressed, CORS exposing the range headers', async () => {
    const r = await request(db(), 'HEAD', { 'Accept-Encoding': 'gzip' });
    expect(r.status).toBe(200);
    expect(r.headers['content-length']).toBe('10000');
    expect(r.headers['accept-ranges']).toBe('bytes');
    expect(r.headers['content-encoding']).toBeUndefined();
    expect(r.headers['access-control-allow-origin']).toBe('*');
    expect(r.headers['access-control-expose-headers']).toContain('Content-Range');
    expect(r.headers['cache-control']).toContain('immutable');
    expect(r.body.length).toBe(0);
  });

  it('serves one range with 206 and Content-Range; suffix and open ranges; 416 past the end', async () => {
    const a = await request(db(), 'GET', { Range: 'bytes=4096-8191' });
    expect(a.status).toBe(206);
    expect(a.headers['content-range']).toBe('bytes 4096-8191/10000');
    expect(a.body.equals(data.subarray(4096, 8192))).toBe(true);
    const b = await request(db(), 'GET', { Range: 'bytes=9000-' });
    expect(b.body.equals(data.subarray(9000))).toBe(true);
    const c = await request(db(), 'GET', { Range: 'bytes=-10' });
    expect(c.headers['content-range']).toBe('bytes 9990-9999/10000');
    const d = await request(db(), 'GET', { Range: 'bytes=10000-10001' });
    expect(d.status).toBe(416);
    expect(d.headers['content-range']).toBe('bytes */10000');
    const whole = await request(db(), 'GET', { Range: 'bytes=0-1,5-6' });
    expect(whole.status).toBe(200);
    expect(whole.body.length).toBe(10_000);
  });

  it('a folder is its index.html, revalidated; "/" goes to the page', async () => {
    const page = await request(`${server.url}web/`);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.headers['cache-control']).toContain('max-age=60');
    const rootRes = await request(server.url);
    expect(rootRes.status).toBe(302);
    expect(rootRes.headers.location).toBe('/web/');
  });

  it('serves only web/ and audio/, never outside the root', async () => {
    expect((await request(`${server.url}audio/show/a.mp3`)).status).toBe(200);
    expect((await request(`${server.url}transcripts/secret.srt`)).status).toBe(404);
    expect((await request(`${server.url}web/../transcripts/secret.srt`)).status).toBe(404);
    expect((await request(`${server.url}web/%2e%2e/transcripts/secret.srt`)).status).toBe(404);
    expect((await request(`${server.url}web/escape.txt`)).status).toBe(404);
    expect((await request(`${server.url}web/index.html`, 'POST')).status).toBe(405);
  });

  it('parses ranges as RFC 9110 says', () => {
    expect(parseRange(undefined, 10)).toBeUndefined();
    expect(parseRange('bytes=2-', 10)).toEqual([2, 9]);
    expect(parseRange('bytes=2-100', 10)).toEqual([2, 9]);
    expect(parseRange('bytes=5-2', 10)).toBe('unsatisfiable');
    expect(parseRange('items=1-2', 10)).toBeUndefined();
    expect(cacheControlFor('web/site.json')).toContain('must-revalidate');
    expect(cacheControlFor('web/assets/app-0123456789abcdef.js')).toContain('immutable');
  });
});
