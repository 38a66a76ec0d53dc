/**
 * Where the Terraform files live, relative to the workspace root ('/'-separated, so the same paths work
 * on disk and on an Nx virtual tree). Site data paths live in @podline/config; these are repository files.
 */
export const TERRAFORM_DIR = 'terraform';
export const SITES_MODULE_DIR = 'terraform/sites';
export const AUTOMATION_MODULE_DIR = 'terraform/automation';
export const SITES_DIR = 'sites';

export const layout = {
  /** Per-site var file: `-var-file=environments/<id>.tfvars`. */
  siteTfvars: (siteId: string) => `${SITES_MODULE_DIR}/environments/${siteId}.tfvars`,
  /** Per-site backend config: `-backend-config=backends/<id>.tfbackend`. */
  siteBackend: (siteId: string) => `${SITES_MODULE_DIR}/backends/${siteId}.tfbackend`,
  environmentsDir: `${SITES_MODULE_DIR}/environments`,
  backendsDir: `${SITES_MODULE_DIR}/backends`,
  /** The central automation identity, shared by every site (loaded automatically by terraform). */
  centralTfvars: `${SITES_MODULE_DIR}/central.auto.tfvars`,
  /** The sites the automation user may reach; generated from the site configs. */
  automationTfvars: `${AUTOMATION_MODULE_DIR}/sites.auto.tfvars`,
  /** A site config's path for a site id at the top level of sites/. */
  siteConfig: (siteId: string) => `${SITES_DIR}/${siteId}/site.config.json`,
} as const;

/** `sites/<id>/site.config.json` -> `../../libs/config/site.config.schema.json` (the "$schema" to write). */
export function schemaRefFor(siteConfigPath: string): string {
  const depth = siteConfigPath.split('/').length - 1;
  return `${'../'.repeat(depth)}libs/config/site.config.schema.json`;
}
