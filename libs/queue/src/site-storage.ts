import { loadAutomationConfig, sessionCacheIn, siteCredentialsProvider } from '@podline/aws';
import type { SiteConfig, SitePaths } from '@podline/config';
import { openBackend, type StorageBackend } from '@podline/storage';

/**
 * The site's bucket, reached as the pipeline reaches it: an S3 site with an `aws` section through its
 * automation role, else the central automation credentials (or the SDK's default chain).
 */
export async function openSiteBucket(site: SiteConfig, paths: SitePaths, workspaceRoot: string, shared = new Map<string, unknown>()): Promise<StorageBackend | undefined> {
  let credentials;
  if (site.storage.kind === 's3') {
    const automation = loadAutomationConfig(workspaceRoot);
    credentials = site.aws ? siteCredentialsProvider(site, automation, sessionCacheIn(shared)) : automation.credentials;
  }
  return openBackend(site, paths, { workspaceRoot, credentials });
}

export type { StorageBackend };
