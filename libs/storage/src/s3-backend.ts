import { createReadStream, promises as fsp, readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type ListObjectsV2CommandOutput,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { PodlineError } from '@podline/config';
import { VerificationError, plainMd5, streamToFileAtomic } from './atomic-stream';
import { contentEncodingFor, contentTypeFor } from './content-type';
import { StorageError, classifyError, describeError, notOwnTempError, tempTooLargeError, withRetries, type RetryOptions } from './errors';
import { folderOf, isOwnTempKey, QUEUE_RESULTS_FOLDER } from './keys';
import { SYNC_DEFAULTS } from './options';
import { DirectPut } from './s3-put';
import type { Listing, ObjectEntry, OnBytes, StorageBackend } from './types';

export interface S3BackendOptions {
  /** Names the site in error messages. */
  siteId: string;
  bucket: string;
  region: string;
  prefix?: string;
  endpoint?: string;
  forcePathStyle?: boolean;
  /** Credentials or a provider (e.g. an assumed role); default: the SDK's default chain. */
  credentials?: S3ClientConfig['credentials'];
  /** Files of this size or more go up in parts (default 16 MiB). */
  multipartThresholdBytes?: number;
  /** A request whose socket stays idle this long fails and is retried (default 60 s). */
  requestTimeoutMs?: number;
  /** Max parallel sockets (default 64). */
  maxSockets?: number;
  /** Uploads below the multipart threshold as one direct PUT (default true); false: always the SDK's PutObject. */
  directPut?: boolean;
  /** Certificates to trust for https endpoints instead of Node's defaults (the PEM file named by AWS_CA_BUNDLE). */
  caBundle?: Buffer;
  retry?: RetryOptions;
}

const MiB = 1024 * 1024;
const SYNC_READ_MAX = MiB;
/** Multipart uploads: part size (S3's minimum is 5 MiB) and parts in flight per upload. */
const PART_SIZE = 8 * MiB;
const PART_CONCURRENCY = 4;

/** The S3 backend: one listing with 1,000-key pages, streamed verified downloads, puts and multipart uploads. */
export class S3Backend implements StorageBackend {
  readonly description: string;
  readonly id: string;
  requests = 0;
  readonly client: S3Client;
  private readonly prefix: string;
  /** One keep-alive socket pool per backend, for the SDK's requests and the direct PUTs alike. */
  private readonly agents: { http: http.Agent; https: https.Agent };
  /** The direct PUT path, resolved on the first upload; a string says why uploads take the SDK's PutObject. */
  private direct?: Promise<DirectPut | string>;

  constructor(private readonly options: S3BackendOptions) {
    this.prefix = (options.prefix ?? '').replace(/^\/+|\/+$/g, '');
    this.description = `s3://${options.bucket}${this.prefix ? `/${this.prefix}` : ''}`;
    this.id = `s3:${options.endpoint ?? ''}:${options.bucket}:${this.prefix}`;
    const maxSockets = options.maxSockets ?? 64;
    this.agents = {
      http: new http.Agent({ keepAlive: true, maxSockets }),
      https: new https.Agent({ keepAlive: true, maxSockets, ...(options.caBundle && { ca: options.caBundle }) }),
    };
    this.client = new S3Client({
      region: options.region,
      endpoint: options.endpoint,
      forcePathStyle: options.forcePathStyle,
      credentials: options.credentials,
      // One retry policy (ours, in withRetries) for requests and whole streamed transfers.
      maxAttempts: 1,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      // Build each command type's middleware stack once, not per request (thousands of small objects).
      cacheMiddleware: true,
      // No "Expect: 100-continue" wait before large bodies: one round trip less per big upload.
      expectContinueHeader: false,
      requestHandler: {
        // Idle-socket timeout (also while a body streams): a stuck request fails and is retried, while a
        // long transfer that keeps moving is never cut.
        socketTimeout: options.requestTimeoutMs ?? 60_000,
        connectionTimeout: Math.min(options.requestTimeoutMs ?? 10_000, 10_000),
        httpAgent: this.agents.http,
        httpsAgent: this.agents.https,
      },
    });
    // Per-request CPU decides the time of thousands of small objects (profiled: ~30% less without these).
    // Dropped: what this client never uses: the SDK logger (none configured), the 100-continue step
    // (disabled above), S3 Express directory-bucket sessions, the Lambda recursion-detection header, the
    // per-request user-agent string building, and the SDK's retry step: with maxAttempts 1 it only took and
    // returned a retry token and stamped invocation headers on every request (~4% of an upload's CPU), while
    // our own policy (withRetries) does the retrying.
    for (const name of ['loggerMiddleware', 'addExpectContinueMiddleware', 's3ExpressMiddleware', 'recursionDetectionMiddleware', 'getUserAgentMiddleware', 'retryMiddleware']) {
      this.client.middlewareStack.remove(name);
    }
    // The signing step is placed relative to the retry step by name: a pass-through keeps its place.
    this.client.middlewareStack.add((next) => next, { step: 'finalizeRequest', priority: 'high', name: 'retryMiddleware' });
    // Count every request that goes on the wire (benchmarks assert "one LIST page and nothing else").
    this.client.middlewareStack.add(
      (next) => async (args) => {
        this.requests++;
        return next(args);
      },
      { step: 'finalizeRequest', name: 'podlineRequestCounter' },
    );
  }

  private objectKey(key: string): string {
    return this.prefix ? `${this.prefix}/${key}` : key;
  }

  /** Turn SDK failures into errors that say which site, bucket and what to do; fatal ones stop the run. */
  private explain(err: unknown, what: string): Error {
    const { siteId, bucket, region } = this.options;
    const detail = describeError(err);
    // A body that keeps arriving short or corrupt is that object's problem, not the whole run's.
    if (err instanceof VerificationError) return err;
    // A credentials provider (e.g. an assumed role) that failed with its own explanation: keep it.
    if (err instanceof PodlineError && !(err instanceof StorageError)) return new StorageError('auth', err.message, err.fix, err);
    switch (classifyError(err)) {
      case 'auth':
        return new StorageError(
          'auth',
          `site ${siteId}: ${this.description} refused the credentials while trying to ${what} (${detail})`,
          `check the AWS credentials this run uses (AWS_PROFILE / AWS_ACCESS_KEY_ID, an expired session, or the site's automation role) and that they may access bucket "${bucket}"`,
          err,
        );
      case 'no-bucket':
        return new StorageError(
          'no-bucket',
          `site ${siteId}: bucket "${bucket}" does not exist (region ${region}${this.options.endpoint ? `, endpoint ${this.options.endpoint}` : ''})`,
          `create it (apply the site's terraform) or correct storage.bucket in sites/${siteId}/site.config.json`,
          err,
        );
      case 'retryable':
        return new StorageError(
          'retryable',
          `site ${siteId}: ${this.description} kept failing while trying to ${what}, after ${this.options.retry?.retries ?? SYNC_DEFAULTS.retries} retries (${detail})`,
          `the storage service is unreachable, unavailable or throttling: check the network and the endpoint${this.options.endpoint ? ` (${this.options.endpoint})` : ''}, then run again (nothing half-written was kept)`,
          err,
        );
      default:
        return err instanceof Error ? err : new Error(detail);
    }
  }

  private async call<T>(what: string, op: () => Promise<T>): Promise<T> {
    try {
      return await withRetries(op, this.options.retry);
    } catch (err) {
      throw this.explain(err, what);
    }
  }

  async list(): Promise<Listing> {
    const out: Listing = new Map();
    const strip = this.prefix ? this.prefix.length + 1 : 0;
    let token: string | undefined;
    do {
      const page: ListObjectsV2CommandOutput = await this.call('list the bucket', () =>
        this.client.send(
          new ListObjectsV2Command({
            Bucket: this.options.bucket,
            Prefix: this.prefix ? `${this.prefix}/` : undefined,
            ContinuationToken: token,
            MaxKeys: 1000,
          }),
        ),
      );
      for (const obj of page.Contents ?? []) {
        if (!obj.Key) continue;
        const key = obj.Key.slice(strip);
        if (!folderOf(key)) continue;
        out.set(key, {
          key,
          size: obj.Size ?? 0,
          mtimeMs: obj.LastModified ? obj.LastModified.getTime() : 0,
          etag: obj.ETag?.replace(/"/g, ''),
        });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  async listTemps(): Promise<ObjectEntry[]> {
    const out: ObjectEntry[] = [];
    const strip = this.prefix ? this.prefix.length + 1 : 0;
    let token: string | undefined;
    do {
      const page: ListObjectsV2CommandOutput = await this.call('list the queue results', () =>
        this.client.send(new ListObjectsV2Command({ Bucket: this.options.bucket, Prefix: this.objectKey(`${QUEUE_RESULTS_FOLDER}/`), ContinuationToken: token, MaxKeys: 1000 })),
      );
      for (const obj of page.Contents ?? []) {
        const key = obj.Key?.slice(strip);
        if (key && isOwnTempKey(key)) out.push({ key, size: obj.Size ?? 0, mtimeMs: obj.LastModified ? obj.LastModified.getTime() : 0, etag: obj.ETag?.replace(/"/g, '') });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  async readTemp(key: string, maxBytes: number): Promise<Buffer> {
    if (!isOwnTempKey(key)) throw notOwnTempError(key, this.description, 'read');
    return this.call(`download ${key}`, async () => {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.options.bucket, Key: this.objectKey(key) }));
      const body = res.Body as Readable;
      if ((res.ContentLength ?? 0) > maxBytes) {
        body.destroy();
        throw tempTooLargeError(key, this.description, maxBytes, res.ContentLength);
      }
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of body) {
        size += (chunk as Buffer).length;
        if (size > maxBytes) {
          body.destroy();
          throw tempTooLargeError(key, this.description, maxBytes);
        }
        chunks.push(chunk as Buffer);
      }
      return Buffer.concat(chunks);
    });
  }

  async removeTemp(key: string): Promise<void> {
    if (!isOwnTempKey(key)) throw notOwnTempError(key, this.description, 'delete');
    await this.remove(key);
  }

  async download(entry: ObjectEntry, file: string, onBytes?: OnBytes): Promise<ObjectEntry> {
    return this.call(`download ${entry.key}`, async () => {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.options.bucket, Key: this.objectKey(entry.key) }));
      const etag = res.ETag?.replace(/"/g, '') ?? entry.etag;
      const mtimeMs = res.LastModified?.getTime() ?? entry.mtimeMs;
      const { size, md5 } = await streamToFileAtomic(res.Body as Readable, file, {
        expectedSize: res.ContentLength ?? entry.size,
        expectedMd5: plainMd5(etag),
        mtimeMs,
        onBytes,
        label: `${this.description}/${entry.key}`,
      });
      return { key: entry.key, size, mtimeMs, etag: md5 };
    });
  }

  remove(key: string): Promise<void> {
    return this.call(`delete ${key}`, async () => {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.options.bucket, Key: this.objectKey(key) }));
    });
  }

  async upload(local: ObjectEntry, file: string, onBytes?: OnBytes): Promise<ObjectEntry> {
    const threshold = this.options.multipartThresholdBytes ?? SYNC_DEFAULTS.multipartThresholdMB * MiB;
    const encoding = contentEncodingFor(local.key);
    const params = { Bucket: this.options.bucket, Key: this.objectKey(local.key), ContentType: contentTypeFor(local.key), ...(encoding && { ContentEncoding: encoding }) };
    return this.call(`upload ${local.key}`, async () => {
      let etag: string | undefined;
      if (local.size < threshold) {
        // Small files go up from memory: a retry can resend the same bytes. Files under 1 MiB are read
        // synchronously: fs.promises.readFile's open/fstat/read/close round trips cost more than the read.
        const body = local.size < SYNC_READ_MAX ? readFileSync(file) : await fsp.readFile(file);
        const direct = await this.directPath();
        if (typeof direct === 'string') {
          const res = await this.client.send(new PutObjectCommand({ ...params, Body: body, ContentLength: body.length }));
          etag = res.ETag;
        } else {
          this.requests++;
          etag = await direct.put(params.Key, body, { 'content-type': params.ContentType, ...(encoding && { 'content-encoding': encoding }) });
        }
        onBytes?.(body.length);
      } else {
        const upload = new Upload({
          client: this.client,
          params: { ...params, Body: createReadStream(file) },
          partSize: PART_SIZE,
          queueSize: PART_CONCURRENCY,
          leavePartsOnError: false,
        });
        let sent = 0;
        upload.on('httpUploadProgress', (p) => {
          if (p.loaded !== undefined && p.loaded > sent) {
            onBytes?.(p.loaded - sent);
            sent = p.loaded;
          }
        });
        const res = await upload.done();
        etag = res.ETag;
      }
      return { key: local.key, size: local.size, mtimeMs: Date.now(), etag: etag?.replace(/"/g, '') };
    });
  }

  /** The direct PUT for this bucket, or why uploads below the multipart threshold take the SDK's PutObject. */
  directPath(): Promise<DirectPut | string> {
    if (this.options.directPut === false) return Promise.resolve('it is turned off for this backend');
    return (this.direct ??= DirectPut.resolve(this.client, this.options.bucket, {
      agents: this.agents,
      idleTimeoutMs: this.options.requestTimeoutMs ?? 60_000,
      connectTimeoutMs: Math.min(this.options.requestTimeoutMs ?? 10_000, 10_000),
    }).catch((err: unknown) => `it could not be prepared (${describeError(err)})`));
  }

  close(): void {
    this.client.destroy();
    this.agents.http.destroy();
    this.agents.https.destroy();
  }
}
