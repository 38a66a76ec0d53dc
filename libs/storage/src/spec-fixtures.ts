/** Shared helpers of this lib's specs: temporary workspaces, file trees, bucket trees. */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { SitePaths, type SiteConfig, type StorageConfig } from '@podline/config';
import { S3_TEST_CREDENTIALS, S3_TEST_REGION, startFaultProxy, startS3Server, type FaultProxy, type S3TestServer } from '@podline/testing/s3-server';
import type { SyncContext } from './sync';
import type { SyncLog } from './types';

export interface TestLog extends SyncLog {
  lines: string[];
}

export function testLog(): TestLog {
  const lines: string[] = [];
  const push = (kind: string) => (m: string) => void lines.push(`${kind}: ${m}`);
  return { lines, info: push('info'), warn: push('warn'), debug: push('debug'), progress: push('progress') };
}

export interface TestSite {
  workspaceRoot: string;
  site: SiteConfig;
  paths: SitePaths;
  env: NodeJS.ProcessEnv;
  log: TestLog;
  ctx(extra?: Partial<SyncContext>): SyncContext;
  cleanup(): void;
}

let counter = 0;

/** A throwaway workspace with one site; data under <tmp>/data. */
export function makeSite(storage: StorageConfig, options: { env?: NodeJS.ProcessEnv; index?: SiteConfig['index'] } = {}): TestSite {
  const workspaceRoot = mkdtempSync(path.join(os.tmpdir(), 'podline-storage-'));
  const id = `site${++counter}`;
  const env: NodeJS.ProcessEnv = { ...options.env };
  const site: SiteConfig = {
    id,
    title: id,
    siteDir: path.join(workspaceRoot, 'sites', id),
    configFile: path.join(workspaceRoot, 'sites', id, 'site.config.json'),
    podcasts: [{ id: 'show', title: 'Show', feedUrl: 'http://127.0.0.1/feed.xml', active: true }],
    storage,
    transcription: { engine: 'whisper', model: 'base.en', language: 'en', usePublisherTranscripts: true },
    index: options.index ?? { kind: 'local' },
  };
  const paths = new SitePaths(id, workspaceRoot, env);
  const log = testLog();
  return {
    workspaceRoot,
    site,
    paths,
    env,
    log,
    ctx: (extra = {}) => ({ site, paths, workspaceRoot, log, env, retry: { baseDelayMs: 5, maxDelayMs: 20 }, ...extra }),
    cleanup: () => rmSync(workspaceRoot, { recursive: true, force: true }),
  };
}

export const md5 = (data: string | Buffer) => createHash('md5').update(data).digest('hex');

/** Write files (key -> content) under root. */
export function writeTree(root: string, files: Record<string, string | Buffer>, mtime?: Date): void {
  for (const [key, content] of Object.entries(files)) {
    const file = path.join(root, ...key.split('/'));
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, content);
    if (mtime) require('node:fs').utimesSync(file, mtime, mtime);
  }
}

/** key -> md5 of every file under root (dot-entries included when `all`). */
export function readTree(root: string, all = false): Record<string, string> {
  const out: Record<string, string> = {};
  const visit = (dir: string, prefix: string) => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names.sort()) {
      if (!all && name.startsWith('.')) continue;
      const abs = path.join(dir, name);
      const key = prefix ? `${prefix}/${name}` : name;
      if (statSync(abs).isDirectory()) visit(abs, key);
      else out[key] = md5(readFileSync(abs));
    }
  };
  visit(root, '');
  return out;
}

export async function putTree(client: S3Client, bucket: string, prefix: string, files: Record<string, string | Buffer>, concurrency = 32): Promise<void> {
  const entries = Object.entries(files);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < entries.length) {
        const [key, body] = entries[next++];
        await client.send(new PutObjectCommand({ Bucket: bucket, Key: prefix ? `${prefix}/${key}` : key, Body: body }));
      }
    }),
  );
}

/** key (prefix stripped) -> ETag of every object in the bucket under prefix. */
export async function bucketTree(client: S3Client, bucket: string, prefix: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix ? `${prefix}/` : undefined, ContinuationToken: token }));
    for (const o of page.Contents ?? []) out[o.Key!.slice(prefix ? prefix.length + 1 : 0)] = o.ETag!.replace(/"/g, '');
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}

export async function getObject(client: S3Client, bucket: string, key: string): Promise<{ body: Buffer; contentType?: string }> {
  const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return { body: Buffer.from(await res.Body!.transformToByteArray()), contentType: res.ContentType };
}

export interface S3SiteOptions {
  /** Default: a fresh bucket name. */
  bucket?: string;
  /** Create the bucket (default true). */
  create?: boolean;
  prefix?: string;
  /** Sets PODLINE_RUN_ID for the site's runs. */
  runId?: string;
  index?: SiteConfig['index'];
}

/**
 * For a spec file against S3: one S3-compatible server behind a fault proxy for the whole file (the
 * proxy's rule and request log reset before each test), sites cleaned up at the end, and `site()` for a
 * fresh bucket with an S3 site on it, reached through the proxy.
 */
export function useS3(bucketPrefix: string) {
  const s3 = {
    server: undefined as unknown as S3TestServer,
    proxy: undefined as unknown as FaultProxy,
    client: undefined as unknown as S3Client,
    sites: [] as TestSite[],
    /** Keep `site` to be cleaned up after the file; returns it. */
    track(site: TestSite): TestSite {
      s3.sites.push(site);
      return site;
    },
    async site(options: S3SiteOptions = {}) {
      const bucket = options.bucket ?? `${bucketPrefix}-${++buckets}`;
      if (options.create !== false) await s3.server.createBucket(bucket);
      const site = s3.track(
        makeSite(
          { kind: 's3', bucket, region: S3_TEST_REGION, prefix: options.prefix, endpoint: s3.proxy.endpoint, forcePathStyle: true },
          { env: options.runId ? { PODLINE_RUN_ID: options.runId } : {}, index: options.index },
        ),
      );
      return { bucket, site, ctx: site.ctx({ credentials: S3_TEST_CREDENTIALS }), prefix: options.prefix ?? '' };
    },
  };
  let buckets = 0;
  beforeAll(async () => {
    s3.server = await startS3Server();
    s3.proxy = await startFaultProxy(s3.server.endpoint);
    s3.client = s3.server.client();
  });
  afterAll(async () => {
    for (const s of s3.sites) s.cleanup();
    await s3.proxy?.stop();
    await s3.server?.stop();
  });
  beforeEach(() => {
    s3.proxy.rule = () => 'pass';
    s3.proxy.requests.length = 0;
  });
  return s3;
}
