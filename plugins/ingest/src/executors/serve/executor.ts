import type { ExecutorContext } from '@nx/devkit';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { loadSiteConfig, localBucketDir, SitePaths, type SiteConfig } from '@podline/config';
import { startStaticServer, WEB_FOLDER, type StaticServer } from '@podline/web';
import type { Schema } from './schema';

/** serve's option defaults (its schema.json repeats them, checked by a spec). */
export const SERVE_DEFAULTS: Readonly<Required<Schema>> = Object.freeze({ port: 4300, host: '127.0.0.1' });

/** The folder to serve for a site, or why there is none. */
export function serveRoot(site: SiteConfig, workspaceRoot: string): { root: string; note?: string } | { error: string; fix: string } {
  const paths = new SitePaths(site.id, workspaceRoot);
  if (site.storage.kind === 'local') {
    const root = localBucketDir(site, workspaceRoot);
    if (existsSync(path.join(root, WEB_FOLDER, 'site.json'))) return { root };
    return { error: `site ${site.id} has no search page in its bucket folder yet`, fix: `run \`nx run ${site.id}:index\` first` };
  }
  if (existsSync(path.join(paths.root, WEB_FOLDER, 'site.json'))) {
    const note =
      site.storage.kind === 's3'
        ? `serving the local mirror of s3://${site.storage.bucket}/${site.storage.prefix ?? ''} (same keys). The bucket itself is served by the CloudFront distribution of terraform/homepage; it is not public without it.`
        : 'this site has no bucket: serving its data folder.';
    return { root: paths.root, note };
  }
  return site.storage.kind === 's3'
    ? {
        error: `site ${site.id} has no search page in its data folder`,
        fix: `run \`nx run ${site.id}:pre-sync\` to mirror the bucket (audio and web/) or \`nx run ${site.id}:index\` to build it, then serve again; to serve the bucket itself, apply terraform/homepage and open its URL`,
      }
    : { error: `site ${site.id} has no search page yet`, fix: `run \`nx run ${site.id}:index\` first` };
}

const running = new Set<() => void>();

/** Stop every server this process started (what Ctrl-C does; for embedding and tests). */
export function stopServing(): void {
  for (const stop of [...running]) stop();
}

/** serve: the site's search page over HTTP with range requests, until stopped. */
export default async function serveExecutor(options: Schema, context: ExecutorContext): Promise<{ success: boolean }> {
  const projectName = context.projectName!;
  const projectRoot = context.projectsConfigurations!.projects[projectName].root;
  let server: StaticServer | undefined;
  try {
    const site = loadSiteConfig(path.join(context.root, projectRoot, 'site.config.json'));
    const where = serveRoot(site, context.root);
    if ('error' in where) {
      process.stderr.write(`[${projectName}:serve] error: ${where.error}\n  fix: ${where.fix}\n`);
      return { success: false };
    }
    server = await startStaticServer({ root: where.root, port: options.port ?? SERVE_DEFAULTS.port, host: options.host ?? SERVE_DEFAULTS.host });
    const shown = (options.host ?? '127.0.0.1') === '0.0.0.0' ? server.url.replace('0.0.0.0', 'localhost') : server.url;
    if (where.note) process.stdout.write(`[${projectName}:serve] ${where.note}\n`);
    process.stdout.write(`[${projectName}:serve] search page: ${shown}${WEB_FOLDER}/  (Ctrl-C to stop)\n`);
    await new Promise<void>((resolve) => {
      const stop = () => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        running.delete(stop);
        resolve();
      };
      running.add(stop);
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    return { success: true };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const fix = e.code === 'EADDRINUSE' ? ` (port ${options.port} is taken: pass --port=<another>, or --port=0 for any free one)` : '';
    process.stderr.write(`[${projectName}:serve] error: ${e.message}${fix}\n`);
    return { success: false };
  } finally {
    await server?.close();
  }
}
