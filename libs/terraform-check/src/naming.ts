import type { SiteConfig } from '@podline/config';

/**
 * Naming conventions of the cloud resources a site gets. The generator writes these into the site config
 * and the tfvars; from then on the site config is the truth and the check compares the two.
 */

/** Bucket names are global across AWS: the account id keeps two operators' "news" sites apart. */
export function defaultBucketName(siteId: string, accountId: string): string {
  return `podline-${siteId}-${accountId}`;
}

export function defaultIndexFunctionName(siteId: string): string {
  return `podline-index-${siteId}`;
}

/** Bucket holding the Terraform state of the sites of one account (created once by the operator). */
export function defaultStateBucket(accountId: string): string {
  return `podline-tfstate-${accountId}`;
}

/** State key of a site: one state per site, so applying one site never touches another. */
export function siteStateKey(siteId: string): string {
  return `sites/${siteId}.tfstate`;
}

/**
 * A site the central automation reaches: it has an AWS account and at least one active podcast.
 * Local-only sites (no `aws` block) need no Terraform at all.
 */
export function isAutomatedSite(site: SiteConfig): boolean {
  return !!site.aws && site.podcasts.some((p) => p.active);
}
