import { loadAutomationConfig, sessionCacheIn, siteCredentialsProvider } from '@podline/aws';
import type { SyncContext } from '@podline/storage';
import type { SiteTask } from './common';

/**
 * The storage engine's context for one site task (shared by pre-sync, check and upload). An S3 site with
 * an `aws` section syncs through its automation role, assumed once per run for all sites of the account
 * (the session cache lives in the batch's shared map); otherwise the central automation credentials, or
 * the SDK's default chain when none are set.
 */
export function syncContext<O>(task: SiteTask<O>): SyncContext {
  const { site, paths, workspaceRoot, log, shared } = task;
  const ctx: SyncContext = { site, paths, workspaceRoot, log };
  if (site.storage.kind !== 's3') return ctx;
  const automation = loadAutomationConfig(workspaceRoot);
  ctx.credentials = site.aws ? siteCredentialsProvider(site, automation, sessionCacheIn(shared)) : automation.credentials;
  return ctx;
}
