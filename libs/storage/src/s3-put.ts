/**
 * The direct PUT: a whole object (below the multipart threshold) in one request, signed by the S3 client's
 * own SigV4 signer with the client's own credentials provider, to the URL the client's own endpoint rules
 * give for the bucket, sent with Node's http/https on the backend's keep-alive agent, without the SDK's
 * per-request middleware (a fresh signer, endpoint rules and schema serialization on every request were
 * most of the CPU of an upload of many small files).
 *
 * The request is the one the SDK's PutObject sends for our parameters: the same path and query, the same
 * headers. Integrity of the body: over plain http the payload's SHA-256 is signed, as the SDK does, and S3
 * refuses a body that does not match it; over https the payload is sent as UNSIGNED-PAYLOAD (S3 allows it
 * for a single PUT; the AWS SDKs for Java and Go do the same over TLS), since TLS already authenticates
 * every byte in transit and hashing each body again cost ~0.3 s of CPU per 100 MB uploaded. No
 * Content-MD5: it would only repeat that check, at twice SHA-256's cost here. The ETag S3 answers (the MD5
 * of what it stored) is what the sync compares with local files afterwards, as before. Errors come out shaped
 * like the SDK's (name = S3 error code, `$metadata.httpStatusCode`, Node's socket error codes, a
 * `TimeoutError`), so the backend's classification and retry policy apply unchanged.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { stripControl } from '@podline/config';
import { getEndpointFromInstructions } from '@smithy/core/endpoints';
import { extendedEncodeURIComponent } from '@smithy/core/protocols';
import type { HttpRequest as SignableRequest, RequestSigner } from '@smithy/types';

/** Largest error body read (an S3 error document is a few hundred bytes; the server is not trusted to be short). */
const MAX_ERROR_BODY = 64 * 1024;

export interface DirectPutOptions {
  /** The agents the SDK client uses too: one socket pool per backend. */
  agents: { http: http.Agent; https: https.Agent };
  /** A request whose socket stays idle this long fails (TimeoutError, retried). */
  idleTimeoutMs: number;
  /** Connecting may take this long. */
  connectTimeoutMs: number;
}

/** An S3 error answer, shaped as the SDK's service exceptions are (what `classifyError` reads). */
export class S3ResponseError extends Error {
  readonly $metadata: { httpStatusCode: number; requestId?: string };
  readonly $fault: 'client' | 'server';
  constructor(
    code: string,
    message: string,
    readonly status: number,
    requestId?: string,
    /** The bucket's region, when S3 says the request went to the wrong one. */
    readonly bucketRegion?: string,
  ) {
    super(message);
    this.name = code;
    this.$metadata = { httpStatusCode: status, requestId };
    this.$fault = status >= 500 ? 'server' : 'client';
  }
}

const XML_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
/** A tag's text in an S3 error document: the server's words, so control characters are removed before anyone prints them. */
const xmlText = (xml: string, tag: string): string | undefined => {
  const m = new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml);
  return m === null ? undefined : stripControl(m[1].replace(/&(amp|lt|gt|quot|apos);/g, (_, e: string) => XML_ENTITIES[e]), true).trim();
};

/** The error an S3 answer with a non-2xx status stands for (its XML error document, when there is one). */
export function s3ErrorFromResponse(status: number, headers: http.IncomingHttpHeaders, body: string): S3ResponseError {
  const code = xmlText(body, 'Code') ?? (status === 404 ? 'NotFound' : status === 403 ? 'Forbidden' : status === 503 ? 'ServiceUnavailable' : 'UnknownError');
  const region = typeof headers['x-amz-bucket-region'] === 'string' ? headers['x-amz-bucket-region'] : xmlText(body, 'Region');
  let message = xmlText(body, 'Message') || `HTTP ${status}${body ? '' : ' with no error document'}`;
  if (region && (status === 301 || status === 400)) message += ` (the bucket is in region ${region}: set storage.region to it)`;
  return new S3ResponseError(code, message, status, (headers['x-amz-request-id'] as string | undefined) ?? xmlText(body, 'RequestId'), region);
}

/** Parts of an object key as the SDK puts them in the path (a `{Key+}` label: each segment encoded, slashes kept). */
const encodeKey = (key: string) => key.split('/').map(extendedEncodeURIComponent).join('/');

export class DirectPut {
  private constructor(
    private readonly url: URL,
    private readonly signer: RequestSigner,
    private readonly signing: { signingRegion: string; signingService: string },
    private readonly clockOffsetMs: () => number,
    private readonly options: DirectPutOptions,
  ) {}

  /**
   * The direct path for `bucket` with `client`'s configuration, or why it cannot take it (then the caller
   * uses the SDK's PutObject): an endpoint that needs another signature than plain SigV4 (multi-region
   * access points, S3 Express directory buckets), extra endpoint headers, or a non-http(s) URL.
   */
  static async resolve(client: S3Client, bucket: string, options: DirectPutOptions): Promise<DirectPut | string> {
    const config = client.config;
    let endpoint;
    try {
      endpoint = await getEndpointFromInstructions({ Bucket: bucket, Key: 'k' }, PutObjectCommand, config);
    } catch (err) {
      return `the endpoint rules gave no endpoint (${(err as Error).message})`;
    }
    const schemes = (endpoint.properties?.authSchemes ?? []) as Array<{ name?: string; signingName?: string; signingRegion?: string }>;
    const scheme = schemes[0] ?? { name: 'sigv4' };
    if (scheme.name !== 'sigv4') return `the endpoint asks for the ${scheme.name} signature`;
    if (endpoint.headers && Object.keys(endpoint.headers).length) return 'the endpoint asks for extra headers';
    const url = new URL(endpoint.url.href);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return `the endpoint's scheme is ${url.protocol}`;
    if (url.search) return 'the endpoint has a query string';
    const signingRegion = scheme.signingRegion ?? (await config.region());
    const signingService = scheme.signingName ?? 's3';
    // The client's own signer (SignatureV4 with the client's credentials provider, S3's no-double-escaping
    // of paths), made once here where the SDK makes one per request.
    const signer = await config.signer({ name: 'sigv4', signingName: signingService, signingRegion, properties: {} } as never);
    return new DirectPut(url, signer, { signingRegion, signingService }, () => config.systemClockOffset ?? 0, options);
  }

  /** PUT `body` as `objectKey` (the bucket's full key) with `headers` (lower-case names); resolves to the ETag. */
  async put(objectKey: string, body: Buffer, headers: Record<string, string>): Promise<string | undefined> {
    const { url } = this;
    const request: SignableRequest = {
      method: 'PUT',
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      path: `${url.pathname.replace(/\/$/, '')}/${encodeKey(objectKey)}`,
      query: { 'x-id': 'PutObject' },
      headers: {
        ...headers,
        'content-length': String(body.length),
        host: url.host,
        ...(url.protocol === 'https:' && { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' }),
      },
      body,
    };
    const signed = await this.signer.sign(request, { ...this.signing, signingDate: new Date(Date.now() + this.clockOffsetMs()) });
    return this.send(signed as SignableRequest, body);
  }

  private send(signed: SignableRequest, body: Buffer): Promise<string | undefined> {
    const secure = signed.protocol === 'https:';
    const { idleTimeoutMs, connectTimeoutMs, agents } = this.options;
    return new Promise((resolve, reject) => {
      const req = (secure ? https : http).request(
        {
          agent: secure ? agents.https : agents.http,
          method: 'PUT',
          // An IPv6 literal comes bracketed in URLs, bare in the socket options.
          host: signed.hostname.replace(/^\[(.*)\]$/, '$1'),
          port: signed.port,
          path: `${signed.path}?x-id=PutObject`,
          headers: signed.headers,
          setHost: false,
        },
        (res) => {
          const status = res.statusCode ?? 0;
          const ok = status >= 200 && status < 300;
          // The answer's body is read up to MAX_ERROR_BODY (a PUT's success has none): a server that sends
          // more gets its connection closed, so an endless body cannot hold the upload.
          let text = '';
          let received = 0;
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            received += chunk.length;
            if (received > MAX_ERROR_BODY) {
              res.destroy();
              reject(ok ? new Error(`the server's answer to the upload was longer than ${MAX_ERROR_BODY} bytes: not an S3 answer`) : s3ErrorFromResponse(status, res.headers, text));
              return;
            }
            if (!ok) text += chunk;
          });
          res.on('error', reject);
          res.on('end', () => (ok ? resolve(res.headers.etag) : reject(s3ErrorFromResponse(status, res.headers, text))));
        },
      );
      const fail = (name: string, message: string) => req.destroy(Object.assign(new Error(message), { name }));
      req.setTimeout(idleTimeoutMs, () => fail('TimeoutError', `the connection was idle for ${idleTimeoutMs} ms (timed out)`));
      req.once('socket', (socket) => {
        if (!socket.connecting) return;
        const timer = setTimeout(() => fail('TimeoutError', `could not connect within ${connectTimeoutMs} ms (timed out)`), connectTimeoutMs);
        socket.once('connect', () => clearTimeout(timer));
        socket.once('close', () => clearTimeout(timer));
      });
      req.on('error', reject);
      req.end(body);
    });
  }
}
