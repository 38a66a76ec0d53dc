import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { S3_TEST_CREDENTIALS, S3_TEST_REGION } from '@podline/testing/s3-server';
import { openBackend } from './open';
import { contentEncodingFor, contentTypeFor } from './content-type';
import { StorageError } from './errors';
import { S3Backend, type S3BackendOptions } from './s3-backend';
import { DirectPut, s3ErrorFromResponse } from './s3-put';
import { makeSite, md5, useS3 } from './spec-fixtures';

/** A self-signed certificate for 127.0.0.1 (valid until 2126), for an https relay in front of the test server. */
const TLS_CERT = `-----BEGIN CERTIFICATE-----
MIIBmzCCAUGgAwIBAgIUPg5tSu/0K7znJ+0M6GCKHPao8xMwCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJMTI3LjAuMC4xMCAXDTI2MTEyNzIxNDA1OFoYDzIxMjYxMTAz
MjE0MDU4WjAUMRIwEAYDVQQDDAkxMjcuMC4wLjEwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAAQ7ohBcgu4/tuK2ncKlVxBhZyAm5GrjJYE4T5R6UbGDh6d1v0HhcFkw
gNI02M6dyBETRdHLsjR1n3NM4mjPPhRVo28wbTAdBgNVHQ4EFgQUdjICtk6FTgGV
XqdzBaJY0yDpvOowHwYDVR0jBBgwFoAUdjICtk6FTgGVXqdzBaJY0yDpvOowDwYD
VR0TAQH/BAUwAwEB/zAaBgNVHREEEzARhwR/AAABgglsb2NhbGhvc3QwCgYIKoZI
zj0EAwIDSAAwRQIhAI39K3pbHpPesvsXlUK6K+KWSaIjm5cWMQjujrRxNXiHAiAF
WgYB7mQjE88TYkr+Emzl/uO/PG2FxVQlufdWwN8KnQ==
-----END CERTIFICATE-----`;
const TLS_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgEKz69Oq0l4EsSpPE
88sf7Hg5F8qYmnA6niB+UvsG+p2hRANCAAQ7ohBcgu4/tuK2ncKlVxBhZyAm5Grj
JYE4T5R6UbGDh6d1v0HhcFkwgNI02M6dyBETRdHLsjR1n3NM4mjPPhRV
-----END PRIVATE KEY-----`;

const s3 = useS3('direct');

let dir: string;
let n = 0;
beforeAll(() => void (dir = mkdtempSync(path.join(os.tmpdir(), 'podline-direct-put-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const backends: S3Backend[] = [];
afterEach(() => backends.splice(0).forEach((b) => b.close()));

function backend(bucket: string, extra: Partial<S3BackendOptions> = {}): S3Backend {
  const b = new S3Backend({
    siteId: 'site-direct',
    bucket,
    region: S3_TEST_REGION,
    endpoint: s3.proxy.endpoint,
    forcePathStyle: true,
    credentials: S3_TEST_CREDENTIALS,
    retry: { retries: 2, baseDelayMs: 5, maxDelayMs: 20 },
    ...extra,
  });
  backends.push(b);
  return b;
}

/** A local file holding `body`, and its entry as the sync engine passes it. */
function localFile(key: string, body: Buffer) {
  const file = path.join(dir, String(++n), 'f');
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, body);
  return { entry: { key, size: body.length, mtimeMs: 0 }, file };
}

/** Upload through `b`, or the error it throws (as the backend explains it). */
async function outcome(b: S3Backend, key = 'audio/show/x.mp3') {
  const { entry, file } = localFile(key, Buffer.from('payload'));
  try {
    return { ok: await b.upload(entry, file) };
  } catch (err) {
    return { kind: err instanceof StorageError ? err.kind : 'other', message: (err as Error).message };
  }
}

describe('direct PUT (uploads below the multipart threshold)', () => {
  it('sends one PUT per file, outside the SDK: byte-exact bodies, content type and encoding, ETag = MD5', async () => {
    const bucket = 'direct-roundtrip';
    await s3.server.createBucket(bucket);
    const b = backend(bucket, { prefix: 'sites/one' });
    const send = jest.spyOn(b.client, 'send');
    const files: Record<string, Buffer> = {
      'transcripts/show/empty.srt': Buffer.alloc(0),
      'transcripts/show/small.srt': randomBytes(4096),
      'audio/show/1.5 MB, read asynchronously.mp3': randomBytes(1536 * 1024),
      'web/app.12ab.js.br': randomBytes(700),
      "audio/show/a b+c(1)!*'~ü&=?#%.mp3": randomBytes(10),
    };
    for (const [key, body] of Object.entries(files)) {
      const { entry, file } = localFile(key, body);
      const got = await b.upload(entry, file);
      expect(got).toMatchObject({ key, size: body.length, etag: md5(body) });
    }
    expect(await b.directPath()).toBeInstanceOf(DirectPut);
    expect(send).not.toHaveBeenCalled();
    expect(b.requests).toBe(Object.keys(files).length);
    expect(s3.proxy.requests.map((r) => r.method)).toEqual(Object.keys(files).map(() => 'PUT'));

    for (const [key, body] of Object.entries(files)) {
      const res = await s3.client.send(new GetObjectCommand({ Bucket: bucket, Key: `sites/one/${key}` }));
      expect(Buffer.from(await res.Body!.transformToByteArray()).equals(body)).toBe(true);
      expect(res.ContentType).toBe(contentTypeFor(key));
      expect(res.ContentEncoding).toBe(contentEncodingFor(key));
      expect(res.ETag).toBe(`"${md5(body)}"`);
    }
  });

  it('is the request the SDK PutObject sends (path, query, headers, session token), signed over exactly what goes on the wire', async () => {
    // The test server does not check signatures or session tokens: a loopback recorder stands in for S3 here.
    const seen: Array<{ url: string; headers: http.IncomingHttpHeaders; body: Buffer }> = [];
    const recorder = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        seen.push({ url: req.url!, headers: req.headers, body });
        res.writeHead(200, { ETag: `"${md5(body)}"` });
        res.end();
      });
    });
    await new Promise<void>((resolve) => recorder.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(recorder.address() as net.AddressInfo).port}`;
    const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret', sessionToken: 'session/token+=' };
    try {
      const key = "web/a b+c(1)!*'~ü.js.br";
      const body = randomBytes(3000);
      for (const directPut of [false, true]) {
        const b = backend('bucket.one', { endpoint, credentials, directPut, prefix: 'p' });
        const { entry, file } = localFile(key, body);
        expect((await b.upload(entry, file)).etag).toBe(md5(body));
      }
      const [sdk, direct] = seen;
      expect(direct.url).toBe(sdk.url);
      expect(direct.body.equals(body)).toBe(true);
      const without = (h: http.IncomingHttpHeaders) => {
        const { authorization: _a, 'x-amz-date': _d, ...rest } = h;
        return rest;
      };
      expect(without(direct.headers)).toEqual(without(sdk.headers));
      expect(direct.headers['x-amz-security-token']).toBe(credentials.sessionToken);
      const signedHeaders = (h: http.IncomingHttpHeaders) => /SignedHeaders=([^,]+)/.exec(h.authorization!)![1];
      expect(signedHeaders(direct.headers)).toBe(signedHeaders(sdk.headers));
      expect(signedHeaders(direct.headers)).toContain('x-amz-security-token');

      // Re-sign what arrived (path as sent, headers as sent) at its own date: the same signature.
      const [pathname, query] = direct.url.split('?');
      const { authorization, ...headers } = direct.headers as Record<string, string>;
      const d = headers['x-amz-date'];
      const signingDate = new Date(`${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 11)}:${d.slice(11, 13)}:${d.slice(13)}`);
      // The SDK's own signer, as a client with these credentials makes it.
      const signer = await s3.server.client(credentials).config.signer({ name: 'sigv4', signingName: 's3', signingRegion: S3_TEST_REGION, properties: {} } as never);
      const resigned = await signer.sign(
        { method: 'PUT', protocol: 'http:', hostname: '127.0.0.1', path: pathname, query: Object.fromEntries(new URLSearchParams(query)), headers, body },
        { signingDate, signingRegion: S3_TEST_REGION, signingService: 's3' },
      );
      expect(resigned.headers.authorization).toBe(authorization);
    } finally {
      await new Promise<void>((resolve) => recorder.close(() => resolve()));
    }
  });

  describe('errors: the same as through the SDK', () => {
    const cases: Array<[string, (bucket: string) => Promise<Partial<S3BackendOptions> | void>, string]> = [
      ['a bucket that does not exist', async () => undefined, 'no-bucket'],
      ['unknown credentials', async () => ({ credentials: { accessKeyId: 'NOT-KNOWN', secretAccessKey: 'x' } }), 'auth'],
      [
        '403 AccessDenied',
        async () => void (s3.proxy.rule = (r) => (r.method === 'PUT' ? { status: 403, code: 'AccessDenied' } : 'pass')),
        'auth',
      ],
      [
        '400 AuthorizationHeaderMalformed (wrong region)',
        async () => void (s3.proxy.rule = (r) => (r.method === 'PUT' ? { status: 400, code: 'AuthorizationHeaderMalformed' } : 'pass')),
        'auth',
      ],
      ['301 PermanentRedirect', async () => void (s3.proxy.rule = (r) => (r.method === 'PUT' ? { status: 301, code: 'PermanentRedirect' } : 'pass')), 'other'],
      ['503 SlowDown that never ends', async () => void (s3.proxy.rule = (r) => (r.method === 'PUT' ? { status: 503, code: 'SlowDown' } : 'pass')), 'retryable'],
      ['500 InternalError that never ends', async () => void (s3.proxy.rule = (r) => (r.method === 'PUT' ? { status: 500, code: 'InternalError' } : 'pass')), 'retryable'],
    ];
    it.each(cases)('%s', async (_name, arrange, kind) => {
      const bucket = `direct-errors-${++n}`;
      const results = [];
      for (const directPut of [false, true]) {
        if (kind !== 'no-bucket') await s3.server.createBucket(`${bucket}-${directPut}`).catch(() => undefined);
        const extra = (await arrange(`${bucket}-${directPut}`)) ?? {};
        const b = backend(`${bucket}-${directPut}`, { ...extra, directPut });
        s3.proxy.requests.length = 0;
        const out = await outcome(b);
        results.push({ ...out, message: out.message?.replace(`${bucket}-${directPut}`, '<bucket>'), puts: s3.proxy.requests.length });
      }
      const [sdk, direct] = results;
      expect(sdk.kind).toBe(kind);
      expect(direct).toEqual(sdk);
      // Fatal errors: one request, no retry storm; retryable ones: the first try and two retries.
      expect(direct.puts).toBe(kind === 'retryable' ? 3 : 1);
    });

    it('a server that closes the connection: retried, then the upload completes', async () => {
      const bucket = 'direct-reset';
      await s3.server.createBucket(bucket);
      const upstream = new URL(s3.server.endpoint);
      let closed = 0;
      // The test server cannot be made to drop a connection: a loopback relay drops the first two.
      const relay = net.createServer((socket) => {
        if (closed < 2) {
          closed++;
          socket.once('data', () => socket.destroy());
          return;
        }
        const up = net.connect(Number(upstream.port), upstream.hostname);
        socket.pipe(up).pipe(socket);
        up.on('error', () => socket.destroy());
        socket.on('error', () => up.destroy());
      });
      await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
      const endpoint = `http://127.0.0.1:${(relay.address() as net.AddressInfo).port}`;
      const retried: string[] = [];
      try {
        const b = backend(bucket, { endpoint, retry: { retries: 3, baseDelayMs: 5, maxDelayMs: 20, onRetry: (err) => void retried.push((err as Error).message) } });
        const body = randomBytes(2048);
        const { entry, file } = localFile('audio/show/reset.mp3', body);
        expect((await b.upload(entry, file)).etag).toBe(md5(body));
        expect(retried).toEqual(['socket hang up', 'socket hang up']);
        const head = await s3.client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'audio/show/reset.mp3' }));
        expect(head.ContentLength).toBe(2048);

        // A server that always drops it: bounded retries, then the clear "kept failing" error, as through the SDK.
        closed = -100;
        const messages = [];
        for (const directPut of [false, true]) {
          const out = await outcome(backend(bucket, { endpoint, directPut }));
          messages.push(out);
        }
        expect(messages[0]).toMatchObject({ kind: 'retryable', message: expect.stringContaining('kept failing while trying to upload audio/show/x.mp3, after 2 retries') });
        expect(messages[1]).toEqual(messages[0]);
      } finally {
        await new Promise<void>((resolve) => relay.close(() => resolve()));
      }
    });

    it('a PUT that never answers times out and is retried', async () => {
      const bucket = 'direct-hang';
      await s3.server.createBucket(bucket);
      let hung = false;
      s3.proxy.rule = (r) => (r.method === 'PUT' && !hung ? ((hung = true), 'hang') : 'pass');
      const retried: string[] = [];
      const b = backend(bucket, { requestTimeoutMs: 300, retry: { retries: 2, baseDelayMs: 5, maxDelayMs: 20, onRetry: (err) => void retried.push((err as Error).name) } });
      const { entry, file } = localFile('audio/show/slow.mp3', Buffer.from('slow'));
      expect((await b.upload(entry, file)).etag).toBe(md5('slow'));
      expect(retried).toEqual(['TimeoutError']);
      expect(s3.proxy.requests.filter((r) => r.method === 'PUT')).toHaveLength(2);
    });

    it("names the bucket's region when S3 says it is elsewhere", () => {
      const err = s3ErrorFromResponse(
        301,
        { 'x-amz-bucket-region': 'eu-west-1' },
        '<Error><Code>PermanentRedirect</Code><Message>The bucket you are attempting to access must be addressed using the specified endpoint.</Message></Error>',
      );
      expect(err).toMatchObject({ name: 'PermanentRedirect', bucketRegion: 'eu-west-1', $metadata: { httpStatusCode: 301 } });
      expect(err.message).toContain('the bucket is in region eu-west-1: set storage.region to it');
    });
  });

  it("a server's error text reaches no log with control characters in it", () => {
    const err = s3ErrorFromResponse(403, {}, '<Error><Code>Access\u001b[2JDenied</Code><Message>no\u0007 entry\r\nforged: line</Message></Error>');
    expect(err.name).not.toMatch(/[\u0000-\u001f\u007f]/);
    expect(err.message).not.toMatch(/[\u0000-\u001f\u007f]/);
    expect(err.message).toContain('entry');
  });

  it('a server that answers an upload with an endless body is cut off, and the upload fails clearly', async () => {
    const endless = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { etag: '"x"' });
        const chunk = Buffer.alloc(16 * 1024, 'a');
        const more = () => {
          while (!res.destroyed && res.write(chunk));
          if (!res.destroyed) res.once('drain', more);
        };
        more();
      });
    });
    await new Promise<void>((r) => endless.listen(0, '127.0.0.1', r));
    try {
      const b = new S3Backend({
        siteId: 'endless',
        bucket: 'endless',
        region: S3_TEST_REGION,
        endpoint: `http://127.0.0.1:${(endless.address() as net.AddressInfo).port}`,
        forcePathStyle: true,
        credentials: S3_TEST_CREDENTIALS,
        retry: { retries: 0 },
      });
      backends.push(b);
      const { entry, file } = localFile('audio/show/endless.mp3', Buffer.from('x'));
      await expect(b.upload(entry, file)).rejects.toThrow(/longer than \d+ bytes/);
    } finally {
      endless.closeAllConnections();
      await new Promise((r) => endless.close(r));
    }
  });

  describe('https', () => {
    /** An https relay in front of the test server, with the certificate above; it records the PUTs' headers. */
    async function tlsRelay() {
      const upstream = new URL(s3.server.endpoint);
      const puts: http.IncomingHttpHeaders[] = [];
      const server = https.createServer({ cert: TLS_CERT, key: TLS_KEY }, (req, res) => {
        if (req.method === 'PUT') puts.push(req.headers);
        const out = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        });
        out.on('error', () => res.destroy());
        req.pipe(out);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return {
        endpoint: `https://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
        puts,
        stop: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
      };
    }

    it('trusts AWS_CA_BUNDLE for the SDK and the direct PUT alike; the body goes as UNSIGNED-PAYLOAD (TLS protects it)', async () => {
      const relay = await tlsRelay();
      const bucket = 'direct-tls';
      await s3.server.createBucket(bucket);
      const bundle = path.join(dir, 'ca.pem');
      writeFileSync(bundle, TLS_CERT);
      const site = s3.track(makeSite({ kind: 's3', bucket, region: S3_TEST_REGION, endpoint: relay.endpoint, forcePathStyle: true }, { env: { AWS_CA_BUNDLE: bundle } }));
      try {
        const b = (await openBackend(site.site, site.paths, { workspaceRoot: site.workspaceRoot, env: site.env, credentials: S3_TEST_CREDENTIALS })) as S3Backend;
        backends.push(b);
        const body = randomBytes(300 * 1024);
        const { entry, file } = localFile('audio/show/tls.mp3', body);
        expect((await b.upload(entry, file)).etag).toBe(md5(body));
        expect([...(await b.list()).keys()]).toEqual(['audio/show/tls.mp3']);
        expect(relay.puts.map((h) => h['x-amz-content-sha256'])).toEqual(['UNSIGNED-PAYLOAD']);
        const res = await s3.client.send(new GetObjectCommand({ Bucket: bucket, Key: 'audio/show/tls.mp3' }));
        expect(Buffer.from(await res.Body!.transformToByteArray()).equals(body)).toBe(true);

        // Without the bundle the certificate is refused, on either path, with the same error.
        const refused = [];
        for (const directPut of [false, true]) refused.push(await outcome(backend(bucket, { endpoint: relay.endpoint, directPut })));
        expect(refused[0]).toMatchObject({ kind: 'other', message: expect.stringMatching(/self[- ]signed certificate/) });
        expect(refused[1]).toEqual(refused[0]);
      } finally {
        await relay.stop();
      }
    });

    it('an AWS_CA_BUNDLE that cannot be read stops the site with a clear error', async () => {
      const site = s3.track(makeSite({ kind: 's3', bucket: 'b', region: S3_TEST_REGION, endpoint: 'https://127.0.0.1:1' }, { env: { AWS_CA_BUNDLE: path.join(dir, 'missing.pem') } }));
      await expect(openBackend(site.site, site.paths, { workspaceRoot: site.workspaceRoot, env: site.env })).rejects.toMatchObject({
        message: `site ${site.site.id}: AWS_CA_BUNDLE names ${path.join(dir, 'missing.pem')}, which cannot be read (ENOENT)`,
        fix: expect.stringContaining('PEM file'),
      });
    });
  });

  describe('what cannot take the direct path takes the SDK PutObject', () => {
    it.each([
      ['a multi-region access point (SigV4a)', 'arn:aws:s3::123456789012:accesspoint/mfzwi23gnjvgw.mrap', /sigv4a signature/],
      ['an S3 Express directory bucket', 'bucket-name--usw2-az1--x-s3', /sigv4-s3express signature/],
    ])('%s', async (_name, bucket, why) => {
      const b = backend(bucket, { endpoint: undefined, forcePathStyle: undefined, region: 'us-west-2' });
      expect(await b.directPath()).toMatch(why);
    });

    it('turned off: every upload goes through the SDK', async () => {
      const bucket = 'direct-off';
      await s3.server.createBucket(bucket);
      const b = backend(bucket, { directPut: false });
      const send = jest.spyOn(b.client, 'send');
      const { entry, file } = localFile('audio/show/sdk.mp3', Buffer.from('sdk'));
      expect((await b.upload(entry, file)).etag).toBe(md5('sdk'));
      expect(send).toHaveBeenCalledTimes(1);
    });

    it('a credentials provider (e.g. an assumed role) is resolved through the client, on the direct path', async () => {
      const bucket = 'direct-provider';
      await s3.server.createBucket(bucket);
      let calls = 0;
      const b = backend(bucket, { credentials: async () => (calls++, { ...S3_TEST_CREDENTIALS, expiration: new Date(Date.now() + 3600_000) }) });
      const send = jest.spyOn(b.client, 'send');
      for (const i of [1, 2, 3]) {
        const { entry, file } = localFile(`audio/show/p${i}.mp3`, Buffer.from(`p${i}`));
        expect((await b.upload(entry, file)).etag).toBe(md5(`p${i}`));
      }
      expect(send).not.toHaveBeenCalled();
      expect(calls).toBe(1);
    });
  });
});
