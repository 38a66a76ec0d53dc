import { S3Client } from '@aws-sdk/client-s3';
import * as path from 'node:path';
import { S3ObjectStore } from './object-store';
import { buildFromStore } from './lambda-build';

/**
 * Lambda entry point: `handler` (bundle this file with its dependencies, better-sqlite3 built for the Lambda
 * runtime). The event is what the `index` executor sends; the environment fills what it leaves out:
 *   PODLINE_SITE_ID, PODLINE_BUCKET, PODLINE_PREFIX, AWS_REGION, PODLINE_S3_ENDPOINT (tests, S3-compatible stores).
 * Credentials are the function's own execution role. Any failed episode fails the invocation (FunctionError),
 * after everything else has been built and uploaded.
 */
export interface IndexEvent {
  site?: string;
  bucket?: string;
  prefix?: string;
  region?: string;
  /** S3-compatible endpoint of the site's bucket (site config storage.endpoint), when not AWS S3. */
  endpoint?: string;
  forcePathStyle?: boolean;
  force?: boolean;
  /** Digest of the upload state that triggered this run (for logs). */
  inputDigest?: string;
}

export interface IndexResponse {
  site: string;
  counts: Record<string, number>;
  uploaded: string[];
  indexDigest?: string;
}

/**
 * The Lambda runtime calls `handler(event, context)`: the environment is the process's, never the second
 * argument. `indexSite` takes it explicitly, for tests and scripts.
 */
export function handler(event: IndexEvent = {}): Promise<IndexResponse> {
  return indexSite(event, process.env);
}

export async function indexSite(event: IndexEvent = {}, env: NodeJS.ProcessEnv = process.env): Promise<IndexResponse> {
  const site = event.site ?? env.PODLINE_SITE_ID;
  const bucket = event.bucket ?? env.PODLINE_BUCKET;
  if (!site || !bucket) throw new Error('the event (or environment) must name the site and bucket: {"site": "...", "bucket": "..."}');
  const endpoint = event.endpoint ?? env.PODLINE_S3_ENDPOINT;
  const client = new S3Client({
    region: event.region ?? env.AWS_REGION ?? 'us-east-1',
    endpoint,
    forcePathStyle: event.forcePathStyle ?? !!endpoint,
    // Plain PUTs S3-compatible stores understand; S3 itself needs no extra checksum for these objects.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const log = {
    info: (m: string) => console.log(m),
    warn: (m: string) => console.warn(m),
    debug: () => {},
    progress: (m: string) => console.log(m),
  };
  log.info(`site ${site}: indexing s3://${bucket}/${event.prefix ?? env.PODLINE_PREFIX ?? ''} (trigger ${event.inputDigest ?? 'manual'})`);
  try {
    const result = await buildFromStore({
      siteId: site,
      store: new S3ObjectStore(client, bucket, event.prefix ?? env.PODLINE_PREFIX ?? ''),
      workDir: path.join(env.PODLINE_WORK_DIR ?? '/tmp/podline', site),
      force: event.force,
      log,
    });
    if (result.problems.length) {
      throw new Error(
        `site ${site}: ${result.problems.length} episode(s) could not be indexed: ` +
          result.problems.map((p) => `${p.file ?? p.episode}: ${p.message}`).join('; '),
      );
    }
    return { site, counts: { ...result.counts, fetched: result.fetched }, uploaded: result.uploaded, indexDigest: result.state?.index.digest };
  } finally {
    client.destroy();
  }
}
