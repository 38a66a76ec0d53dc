/** Shared helpers of this lib's specs: temporary workspaces, file trees, bucket trees. */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { SitePaths, type SiteConfig, type StorageConfig } from '@podline/config';
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
