import type { AwsConfig, SiteConfig } from './types';

/**
 * The region of a site's AWS resources (bucket, indexing Lambda, Terraform): `aws.region`, else the S3
 * bucket's region. Undefined when the config names neither: Terraform then refuses the site, and a runtime
 * call falls back to the automation environment's region (`regionFor`).
 * The one answer both the Terraform check and every AWS call use, so they cannot disagree.
 */
export function siteRegion(site: { aws?: Partial<AwsConfig>; storage?: SiteConfig['storage'] }): string | undefined {
  return site.aws?.region ?? (site.storage?.kind === 's3' ? site.storage.region : undefined);
}

/** The region fallback of the AWS SDKs when nothing names one. */
export const DEFAULT_AWS_REGION = 'us-east-1';

/** The site's region, else `fallback` (the automation environment's AWS_REGION), else us-east-1. */
export function regionFor(site: Parameters<typeof siteRegion>[0], fallback?: string): string {
  return siteRegion(site) ?? fallback ?? DEFAULT_AWS_REGION;
}
