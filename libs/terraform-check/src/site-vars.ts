import { DEFAULT_AUTOMATION_ROLE_NAME, siteRegion, type SiteConfig } from '@podline/config';
import { defaultBucketName, defaultIndexFunctionName, siteStateKey } from './naming';
import { renderTfvars } from './render';

/** The values of terraform/sites/environments/<id>.tfvars (variables of terraform/sites). */
export interface SiteTfvars {
  site_id: string;
  aws_region: string;
  automation_account_id: string;
  create_automation_role: boolean;
  automation_role_name: string;
  bucket_name: string;
  /** storage.prefix; written only when set (the variable defaults to ""). */
  bucket_prefix: string;
  index_function_name: string;
}

/** Where each tfvars value comes from in the site config (for messages). */
export const TFVARS_SOURCE: Record<Exclude<keyof SiteTfvars, 'create_automation_role'>, string> = {
  site_id: 'id',
  aws_region: 'aws.region (or storage.region)',
  automation_account_id: 'aws.accountId',
  automation_role_name: 'aws.automationRoleName',
  bucket_name: 'storage.bucket',
  bucket_prefix: 'storage.prefix',
  index_function_name: 'index.functionName',
};

/**
 * What a site's tfvars must say, derived from its config (which must have an `aws` block and a region).
 * `create_automation_role` cannot be derived from one site: the caller decides it.
 */
export function siteTfvarsFor(site: SiteConfig, createAutomationRole: boolean): SiteTfvars {
  if (!site.aws) throw new Error(`${site.id}: a site without "aws" has no Terraform`);
  const region = siteRegion(site);
  if (!region) throw new Error(`${site.id}: set aws.region`);
  return {
    site_id: site.id,
    aws_region: region,
    automation_account_id: site.aws.accountId,
    create_automation_role: createAutomationRole,
    automation_role_name: site.aws.automationRoleName ?? DEFAULT_AUTOMATION_ROLE_NAME,
    bucket_name: site.storage.kind === 's3' ? site.storage.bucket : defaultBucketName(site.id, site.aws.accountId),
    bucket_prefix: site.storage.kind === 's3' ? (site.storage.prefix ?? '') : '',
    index_function_name: site.index.kind === 'lambda' ? site.index.functionName : defaultIndexFunctionName(site.id),
  };
}

export function renderSiteTfvars(vars: SiteTfvars): string {
  return renderTfvars(
    [
      { site_id: vars.site_id, aws_region: vars.aws_region, automation_account_id: vars.automation_account_id },
      { create_automation_role: vars.create_automation_role, automation_role_name: vars.automation_role_name },
      { bucket_name: vars.bucket_name, ...(vars.bucket_prefix ? { bucket_prefix: vars.bucket_prefix } : {}), index_function_name: vars.index_function_name },
    ],
    {
      header: [
        `Site "${vars.site_id}": terraform -chdir=terraform/sites plan -var-file=environments/${vars.site_id}.tfvars`,
        'Written by `nx g site`; must agree with the site config (checked by `npx nx run tools:validate-terraform`).',
        'create_automation_role is true for exactly one site per AWS account: the one that creates the role.',
      ],
    },
  );
}

/** The values of a site's backend file (partial configuration of the s3 backend). */
export interface SiteBackend {
  bucket: string;
  key: string;
  region: string;
  encrypt: boolean;
  use_lockfile: boolean;
}

export function siteBackendFor(siteId: string, stateBucket: string, region: string): SiteBackend {
  return { bucket: stateBucket, key: siteStateKey(siteId), region, encrypt: true, use_lockfile: true };
}

export function renderSiteBackend(siteId: string, backend: SiteBackend): string {
  return renderTfvars([{ ...backend }], {
    header: [
      `State of site "${siteId}": terraform -chdir=terraform/sites init -reconfigure -backend-config=backends/${siteId}.tfbackend`,
      'The state bucket must exist before init (see terraform/README.md).',
    ],
  });
}

/** terraform/sites/central.auto.tfvars: the central automation identity every automation role trusts. */
export interface CentralTfvars {
  central_account_id: string;
  automation_user_name: string;
}

export function renderCentralTfvars(vars: CentralTfvars): string {
  return renderTfvars([{ ...vars }], {
    header: [
      'The central automation identity (terraform/automation), trusted by every site\'s automation role.',
      'Loaded automatically by terraform in terraform/sites; written once by `nx g site`.',
    ],
  });
}
