import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { localBucketDir, type SiteConfig, type SitePaths } from '@podline/config';
import type { S3ClientConfig } from '@aws-sdk/client-s3';
import { StorageError, type RetryOptions } from './errors';
import { HashCache } from './hash-cache';
import { LocalFolderBackend } from './local-backend';
import { SYNC_DEFAULTS } from './options';
import { S3Backend } from './s3-backend';
import type { StorageBackend } from './types';

export interface OpenOptions {
  workspaceRoot: string;
  env?: NodeJS.ProcessEnv;
  credentials?: S3ClientConfig['credentials'];
  multipartThresholdBytes?: number;
  concurrency?: number;
  requestTimeoutMs?: number;
  retry?: RetryOptions;
  /** Hears about symbolic links met (and not followed) in a local bucket. */
  onSymlink?: (link: string) => void;
}

/** The site's bucket side: a local folder (default), S3, or undefined for storage kind "none". */
export async function openBackend(site: SiteConfig, paths: SitePaths, options: OpenOptions): Promise<StorageBackend | undefined> {
  const env = options.env ?? process.env;
  const storage = site.storage ?? { kind: 'local' };
  switch (storage.kind) {
    case 'none':
      return undefined;
    case 'local': {
      const hashes = await HashCache.open(path.join(paths.cacheDir(), 'sync', 'bucket-hashes.json'));
      return new LocalFolderBackend(localBucketDir({ id: site.id, storage }, options.workspaceRoot, env), hashes, options.onSymlink);
    }
    case 's3': {
      // PODLINE_S3_ENDPOINT points every S3 site at an S3-compatible server (tests, end-to-end runs).
      const endpoint = storage.endpoint ?? (env.PODLINE_S3_ENDPOINT || undefined);
      // AWS_CA_BUNDLE: the certificates to trust for https, as the AWS CLI reads it (instead of the defaults).
      let caBundle: Buffer | undefined;
      if (env.AWS_CA_BUNDLE) {
        try {
          caBundle = readFileSync(env.AWS_CA_BUNDLE);
        } catch (err) {
          throw new StorageError(
            'other',
            `site ${site.id}: AWS_CA_BUNDLE names ${env.AWS_CA_BUNDLE}, which cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
            'point AWS_CA_BUNDLE at a PEM file of the certificates to trust, or unset it',
            err,
          );
        }
      }
      return new S3Backend({
        siteId: site.id,
        bucket: storage.bucket,
        region: storage.region,
        prefix: storage.prefix,
        endpoint,
        forcePathStyle: storage.forcePathStyle ?? (endpoint ? true : undefined),
        credentials: options.credentials,
        multipartThresholdBytes: options.multipartThresholdBytes,
        maxSockets: Math.max(16, (options.concurrency ?? SYNC_DEFAULTS.concurrency) * 4),
        requestTimeoutMs: options.requestTimeoutMs,
        retry: options.retry,
        caBundle,
      });
    }
  }
}

/** The storage as written into states: no machine paths. */
export function storageLabel(site: SiteConfig): Record<string, string> {
  const s = site.storage ?? { kind: 'local' };
  if (s.kind === 's3') return { kind: 's3', bucket: s.bucket, prefix: (s.prefix ?? '').replace(/^\/+|\/+$/g, '') };
  return { kind: s.kind };
}
