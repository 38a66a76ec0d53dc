import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { byKey } from '@podline/config';

/**
 * The little the Lambda handler needs from a bucket. Kept this small so the handler does not wait on (or
 * duplicate) the full storage library; any S3-compatible store works through S3ObjectStore.
 */
export interface ObjectStore {
  /** Objects under a '/'-terminated prefix (keys relative to the store's own prefix), sorted by key. */
  list(prefix: string): Promise<ObjectInfo[]>;
  /** The object's bytes, or undefined when it does not exist. */
  get(key: string): Promise<Buffer | undefined>;
  /** Store the object; returns its new ETag when the store gives one. */
  put(key: string, body: Buffer | string, contentType?: string): Promise<string | undefined>;
}

export interface ObjectInfo {
  key: string;
  /** Changes whenever the content does (S3: the ETag). */
  etag?: string;
}

/** ObjectStore on an S3 bucket, keys under an optional prefix ("sites/example" -> "sites/example/<key>"). */
export class S3ObjectStore implements ObjectStore {
  private readonly base: string;
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    prefix = '',
  ) {
    this.base = prefix ? prefix.replace(/\/+$/, '') + '/' : '';
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    const out: ObjectInfo[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.base + prefix, ContinuationToken: token }),
      );
      for (const o of page.Contents ?? []) if (o.Key) out.push({ key: o.Key.slice(this.base.length), etag: o.ETag });
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out.sort(byKey);
  }

  async get(key: string): Promise<Buffer | undefined> {
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.base + key }));
      return Buffer.from(await res.Body!.transformToByteArray());
    } catch (err) {
      const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (e.name === 'NoSuchKey' || e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404) return undefined;
      throw err;
    }
  }

  async put(key: string, body: Buffer | string, contentType?: string): Promise<string | undefined> {
    const out = await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.base + key, Body: body, ContentType: contentType }));
    return out.ETag;
  }
}
