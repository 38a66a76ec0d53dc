import { DEFAULT_AUTOMATION_ROLE_NAME, siteRegion, type ConfigProblem } from '@podline/config';
import { parseHcl, HclSyntaxError } from './hcl';
import { layout } from './layout';
import { isAutomatedSite } from './naming';
import type { WorkspaceReader } from './reader';
import { renderTfvars } from './render';
import type { CentralTfvars } from './site-vars';
import { discoverSites } from './sites';

/** One entry of `sites` in terraform/automation/sites.auto.tfvars. */
export interface AutomationSite {
  account_id: string;
  role_name: string;
  region: string;
}

export interface AutomationTfvars {
  central_account_id?: string;
  user_name?: string;
  sites: Record<string, AutomationSite>;
}

/**
 * Read terraform/sites/central.auto.tfvars; undefined when absent, and also when unparsable (then the
 * syntax error is added to `problems`).
 */
export async function readCentralTfvars(reader: WorkspaceReader, problems: ConfigProblem[]): Promise<Partial<CentralTfvars> | undefined> {
  const text = reader.read(layout.centralTfvars);
  if (text === undefined) return undefined;
  try {
    return (await parseHcl(layout.centralTfvars, text)) as Partial<CentralTfvars>;
  } catch (err) {
    if (!(err instanceof HclSyntaxError)) throw err;
    problems.push({ file: err.file, field: '', message: `is not valid HCL: ${err.detail}`, fix: 'correct the syntax' });
    return undefined;
  }
}

/** The `sites` map the automation module must hold: every automated site, by id (sorted). */
export function automationSitesFrom(sites: ReturnType<typeof discoverSites>): Record<string, AutomationSite> {
  const out: Record<string, AutomationSite> = {};
  for (const { config } of [...sites].sort((a, b) => a.id.localeCompare(b.id))) {
    if (!config?.aws || !isAutomatedSite(config)) continue;
    out[config.id] = {
      account_id: config.aws.accountId,
      role_name: config.aws.automationRoleName ?? DEFAULT_AUTOMATION_ROLE_NAME,
      region: siteRegion(config) ?? '',
    };
  }
  return out;
}

export function renderAutomationTfvars(vars: AutomationTfvars): string {
  const identity: Record<string, string> = {};
  if (vars.central_account_id) identity.central_account_id = vars.central_account_id;
  if (vars.user_name) identity.user_name = vars.user_name;
  const sites: Record<string, Record<string, string>> = {};
  for (const [id, s] of Object.entries(vars.sites)) sites[id] = { account_id: s.account_id, role_name: s.role_name, region: s.region };
  return renderTfvars(Object.keys(identity).length ? [identity, { sites }] : [{ sites }], {
    header: [
      'Generated from the site configs and terraform/sites/central.auto.tfvars by `npx nx run tools:automation-sites`.',
      'Do not edit: change the site configs and regenerate.',
    ],
    mapKeys: ['sites'],
  });
}

export interface AutomationFileResult {
  file: string;
  /** The file's new text; undefined when a problem prevents writing it. */
  content?: string;
  problems: ConfigProblem[];
}

/**
 * terraform/automation/sites.auto.tfvars as the site configs say it must be. Refuses (problems, no
 * content) when a site config is broken: leaving a site out would withdraw the automation's access to it.
 */
export async function buildAutomationTfvars(reader: WorkspaceReader): Promise<AutomationFileResult> {
  const file = layout.automationTfvars;
  const sites = discoverSites(reader);
  const problems: ConfigProblem[] = sites.flatMap((s) => s.problems);
  for (const s of sites) {
    if (s.config?.aws && !siteRegion(s.config)) {
      problems.push({ file: s.file, field: 'aws.region', message: 'is missing (and storage is not s3 with a region)', fix: 'add "region" to "aws", e.g. "us-east-1"' });
    }
  }
  const central = await readCentralTfvars(reader, problems);
  const automated = automationSitesFrom(sites);
  if (Object.keys(automated).length && !central?.central_account_id && !problems.length) {
    problems.push({
      file: layout.centralTfvars,
      field: '',
      message: 'is missing or has no central_account_id, so the automation user\'s account is unknown',
      fix: 'create it with central_account_id = "<12-digit account of the automation user>" (nx g site writes it for the first site)',
    });
  }
  if (problems.length) return { file, problems };
  const content = renderAutomationTfvars({
    central_account_id: central?.central_account_id,
    user_name: central?.automation_user_name,
    sites: automated,
  });
  return { file, content, problems };
}
