import { DEFAULT_AUTOMATION_ROLE_NAME, isTempOrJunk, type ConfigProblem, type SiteConfig } from '@podline/config';
import { automationSitesFrom, type AutomationSite } from './automation';
import { declaredVariables, HclSyntaxError, parseHcl, type HclDocument } from './hcl';
import { AUTOMATION_MODULE_DIR, layout, SITES_MODULE_DIR } from './layout';
import { siteStateKey } from './naming';
import type { WorkspaceReader } from './reader';
import { siteRegion, siteTfvarsFor, TFVARS_SOURCE, type SiteTfvars } from './site-vars';
import { discoverSites, type DiscoveredSite } from './sites';

type Variables = ReturnType<typeof declaredVariables>;
const REGENERATE = 'run `npx nx run tools:automation-sites` to regenerate it from the site configs';

function problem(file: string, message: string, fix: string, field = ''): ConfigProblem {
  return { file, field, message, fix };
}

/** Collects problems while reading files: a file that does not parse is reported once and skipped. */
class Collector {
  readonly problems: ConfigProblem[] = [];
  constructor(readonly reader: WorkspaceReader) {}

  add(file: string, message: string, fix: string, field = ''): void {
    this.problems.push(problem(file, message, fix, field));
  }

  async parse(file: string): Promise<HclDocument | undefined> {
    const text = this.reader.read(file);
    if (text === undefined) return undefined;
    try {
      return await parseHcl(file, text);
    } catch (err) {
      if (!(err instanceof HclSyntaxError)) throw err;
      this.add(file, `is not valid HCL: ${err.detail}`, 'correct the syntax (terraform fmt shows the same error)');
      return undefined;
    }
  }

  /** Variables declared by the .tf files of a module folder. */
  async moduleVariables(dir: string): Promise<Variables | undefined> {
    const files = this.reader.children(dir).filter((n) => n.endsWith('.tf') && !isTempOrJunk(n));
    if (!files.length) {
      this.add(dir, 'has no .tf files', 'restore the module from version control');
      return undefined;
    }
    const vars: Variables = new Map();
    for (const name of files) {
      const doc = await this.parse(`${dir}/${name}`);
      if (doc) for (const [k, v] of declaredVariables(doc)) vars.set(k, v);
    }
    return vars;
  }

  /** Parsed files of one kind in a folder, keyed by name without the extension. */
  async filesByStem(dir: string, ext: string): Promise<Map<string, { file: string; doc?: HclDocument }>> {
    const out = new Map<string, { file: string; doc?: HclDocument }>();
    for (const name of this.reader.children(dir)) {
      if (!name.endsWith(ext) || isTempOrJunk(name)) continue;
      const file = `${dir}/${name}`;
      out.set(name.slice(0, -ext.length), { file, doc: await this.parse(file) });
    }
    return out;
  }

  /**
   * Every key of a var file must be a declared variable. With `alsoSetBy` (the other var files terraform
   * loads with it), every variable without a default must be set by one of them.
   */
  checkKeys(file: string, doc: HclDocument, vars: Variables, moduleDir: string, alsoSetBy?: HclDocument[]): void {
    for (const key of Object.keys(doc).sort()) {
      if (!vars.has(key)) {
        this.add(file, `sets "${key}", which is not a variable declared in ${moduleDir}`, `remove it or correct its spelling (declared: ${[...vars.keys()].sort().join(', ')})`);
      }
    }
    if (!alsoSetBy) return;
    for (const [name, v] of [...vars].sort(([a], [b]) => a.localeCompare(b))) {
      if (v.hasDefault || name in doc || alsoSetBy.some((d) => name in d)) continue;
      this.add(file, `does not set "${name}", which ${moduleDir} requires (it has no default)`, `add ${name} = <value>`);
    }
  }
}

const text = (v: unknown) => (typeof v === 'string' ? `"${v}"` : JSON.stringify(v));

/** Lines a missing tfvars should have, for the fix message. */
function tfvarsHint(expected: Omit<SiteTfvars, 'create_automation_role'>): string {
  return Object.entries(expected)
    .map(([k, v]) => `${k} = ${text(v)}`)
    .join(', ');
}


/**
 * Check that terraform/ and the site configs agree, without a cloud or a terraform binary:
 * - every site with an `aws` block has environments/<id>.tfvars and backends/<id>.tfbackend, and vice versa
 *   (sites without `aws` are local-only and need neither);
 * - var files set only declared variables, and every required one;
 * - tfvars values (account, role name, region, bucket, function) match the site config;
 * - per AWS account and role name, exactly one site has create_automation_role = true;
 * - no two sites claim the same bucket (global) or indexing function (per account and region);
 * - backend files give each site its own state key;
 * - terraform/automation/sites.auto.tfvars lists exactly the automated sites, with matching accounts and roles,
 *   and the same central identity as terraform/sites/central.auto.tfvars.
 * Returns every problem, each with the file and the fix; empty when the tree is consistent.
 */
export async function validateTerraform(reader: WorkspaceReader): Promise<ConfigProblem[]> {
  const c = new Collector(reader);
  const sites = discoverSites(reader);
  for (const s of sites) c.problems.push(...s.problems);

  const sitesVars = await c.moduleVariables(SITES_MODULE_DIR);
  const automationVars = await c.moduleVariables(AUTOMATION_MODULE_DIR);
  const central = await c.parse(layout.centralTfvars);
  const tfvars = await c.filesByStem(layout.environmentsDir, '.tfvars');
  const backends = await c.filesByStem(layout.backendsDir, '.tfbackend');

  const byId = new Map<string, DiscoveredSite>();
  for (const s of sites) {
    const other = byId.get(s.id);
    if (other) c.add(s.file, `has the same site id "${s.id}" as ${other.file}`, 'rename one of the site folders (and its "id")');
    byId.set(s.id, s);
  }
  const awsSites = sites.filter((s): s is DiscoveredSite & { config: SiteConfig } => !!s.config?.aws);

  // central.auto.tfvars: needed as soon as one site is in AWS.
  if (central && sitesVars) c.checkKeys(layout.centralTfvars, central, sitesVars, SITES_MODULE_DIR);
  if (awsSites.length && reader.read(layout.centralTfvars) === undefined) {
    c.add(layout.centralTfvars, 'is missing: the sites\' automation roles do not know which user to trust', 'create it with central_account_id = "<12-digit account of the automation user>" and automation_user_name = "podline-automation"');
  }

  // Var files and backend files without an AWS site.
  for (const [id, { file }] of tfvars) {
    const site = byId.get(id);
    if (!site) c.add(file, `belongs to no site: there is no sites/**/${id}/site.config.json`, `delete it (after \`terraform destroy\` with it, if it was applied), or restore the site "${id}"`);
    else if (site.config && !site.config.aws) c.add(file, `belongs to site "${id}", which has no "aws" block (a local-only site needs no Terraform)`, `add "aws": {"accountId": …} to ${site.file}, or delete this file`);
  }
  for (const [id, { file }] of backends) {
    const site = byId.get(id);
    if (!site) c.add(file, `belongs to no site: there is no sites/**/${id}/site.config.json`, `delete it, or restore the site "${id}"`);
    else if (site.config && !site.config.aws) c.add(file, `belongs to site "${id}", which has no "aws" block (a local-only site needs no Terraform)`, `add "aws": {"accountId": …} to ${site.file}, or delete this file`);
  }

  // Each AWS site: its files exist and agree with its config.
  const creators = new Map<string, { files: string[]; creating: string[] }>();
  for (const site of awsSites) {
    const { id, config } = site;
    const tfvarsFile = layout.siteTfvars(id);
    const backendFile = layout.siteBackend(id);
    if (!siteRegion(config)) {
      c.add(site.file, 'has no region for the site\'s AWS resources', 'add "region" to "aws", e.g. "us-east-1"', 'aws.region');
      continue;
    }
    const { create_automation_role: _ignored, ...expected } = siteTfvarsFor(config, false);
    const entry = tfvars.get(id);
    if (!entry) {
      c.add(tfvarsFile, `is missing: site "${id}" (${site.file}) has an "aws" block`, `create it with ${tfvarsHint(expected)} and create_automation_role = true only if no other site in account ${config.aws!.accountId} has it`);
    } else if (entry.doc) {
      const doc = entry.doc;
      if (sitesVars) c.checkKeys(tfvarsFile, doc, sitesVars, SITES_MODULE_DIR, central ? [central] : []);
      for (const [key, want] of Object.entries(expected) as Array<[keyof typeof expected, string]>) {
        const have = key in doc ? doc[key] : sitesVars?.get(key)?.default;
        if (have === undefined || have === want) continue;
        const source = TFVARS_SOURCE[key];
        c.add(tfvarsFile, `${key} is ${text(have)} but ${site.file} says ${source} ${text(want)}`, `make them agree: set ${key} = ${text(want)} here, or correct ${source} in the site config`);
      }
      if ('create_automation_role' in doc && typeof doc.create_automation_role !== 'boolean') {
        c.add(tfvarsFile, `create_automation_role is ${text(doc.create_automation_role)}, not true or false`, 'set it to true (one site per account) or false');
      }
      // Group by the account and role the var file will really act on.
      const account = String(doc.automation_account_id ?? expected.automation_account_id);
      const role = String(doc.automation_role_name ?? sitesVars?.get('automation_role_name')?.default ?? DEFAULT_AUTOMATION_ROLE_NAME);
      const group = creators.get(`${account}|${role}`) ?? { files: [], creating: [] };
      group.files.push(tfvarsFile);
      if (doc.create_automation_role === true) group.creating.push(tfvarsFile);
      creators.set(`${account}|${role}`, group);
    }

    const backend = backends.get(id);
    if (!backend) {
      c.add(backendFile, `is missing: site "${id}" (${site.file}) has an "aws" block`, `create it with bucket = "<state bucket>", key = "${siteStateKey(id)}", region = "${expected.aws_region}", encrypt = true, use_lockfile = true`);
    } else if (backend.doc) {
      const doc = backend.doc;
      if (doc.key !== siteStateKey(id)) {
        c.add(backendFile, `key is ${text(doc.key)}: each site needs its own state, at "${siteStateKey(id)}"`, `set key = "${siteStateKey(id)}" (a shared key would let one site's apply destroy another's resources)`);
      }
      for (const required of ['bucket', 'region']) {
        if (typeof doc[required] !== 'string' || !doc[required]) c.add(backendFile, `does not set "${required}"`, `add ${required} = "<value>" (see terraform/README.md)`);
      }
    }
  }

  // Names Terraform would create twice: bucket names are global, function names per account and region.
  const claims = new Map<string, { what: string; files: string[] }>();
  for (const site of awsSites) {
    const doc = tfvars.get(site.id)?.doc;
    if (!doc) continue;
    const file = layout.siteTfvars(site.id);
    const claim = (key: string, what: string) => {
      const entry = claims.get(key) ?? { what, files: [] };
      entry.files.push(file);
      claims.set(key, entry);
    };
    if (typeof doc.bucket_name === 'string') claim(`bucket|${doc.bucket_name}`, `bucket_name "${doc.bucket_name}"`);
    if (typeof doc.index_function_name === 'string') {
      claim(`fn|${doc.automation_account_id}|${doc.aws_region}|${doc.index_function_name}`, `index_function_name "${doc.index_function_name}" (account ${doc.automation_account_id}, ${doc.aws_region})`);
    }
  }
  for (const { what, files } of claims.values()) {
    if (files.length > 1) c.add(files[1], `uses the same ${what} as ${files[0]}: the second apply would fail or take over the first site's resource`, 'give each site its own name, in its site config and its tfvars');
  }

  // Exactly one role creator per account (and role name).
  for (const [key, group] of [...creators].sort()) {
    const [account, role] = key.split('|');
    if (group.creating.length === 0) {
      c.add(group.files[0], `no site in AWS account ${account} creates the automation role "${role}" (create_automation_role is false in ${group.files.join(', ')})`, `set create_automation_role = true in exactly one of them (the first site of the account: ${group.files[0]})`);
    } else if (group.creating.length > 1) {
      c.add(group.creating[1], `${group.creating.length} sites in AWS account ${account} create the automation role "${role}": ${group.creating.join(', ')}`, `keep create_automation_role = true in ${group.creating[0]} only; set it to false in the others`);
    }
  }

  // The automation module lists exactly the automated sites.
  const automation = await c.parse(layout.automationTfvars);
  const automationExists = reader.read(layout.automationTfvars) !== undefined;
  checkAutomation(c, sites, central, automation, automationExists, automationVars);
  return c.problems;
}

function checkAutomation(
  c: Collector,
  sites: DiscoveredSite[],
  central: HclDocument | undefined,
  doc: HclDocument | undefined,
  exists: boolean,
  vars: Variables | undefined,
): void {
  const file = layout.automationTfvars;
  const want = automationSitesFrom(sites);
  if (!exists) {
    if (Object.keys(want).length) c.add(file, `is missing, so the automation user may reach none of the sites: ${Object.keys(want).join(', ')}`, REGENERATE);
    return;
  }
  if (!doc) return; // unparsable: already reported
  // Required variables matter only once there is something to apply (no automated site: nothing to apply).
  if (vars) c.checkKeys(file, doc, vars, AUTOMATION_MODULE_DIR, Object.keys(want).length ? [] : undefined);
  // The user the automation module creates must be the one the sites' roles trust.
  const pairs: Array<[string, string]> = [
    ['central_account_id', 'central_account_id'],
    ['user_name', 'automation_user_name'],
  ];
  for (const [key, centralKey] of pairs) {
    const have = doc[key] ?? vars?.get(key)?.default;
    const should = central?.[centralKey] ?? (centralKey === 'automation_user_name' ? DEFAULT_AUTOMATION_ROLE_NAME : undefined);
    if (should !== undefined && have !== should) {
      c.add(file, `${key} is ${text(have)} but ${layout.centralTfvars} says ${centralKey} ${text(should)}`, REGENERATE);
    }
  }
  const have = (doc.sites ?? {}) as Record<string, Partial<AutomationSite>>;
  if (typeof have !== 'object' || Array.isArray(have)) {
    c.add(file, 'sites is not a map of site id to { account_id, role_name, region }', REGENERATE);
    return;
  }
  for (const [id, entry] of Object.entries(want)) {
    const listed = have[id];
    if (!listed) {
      c.add(file, `does not list site "${id}" (account ${entry.account_id}), so the automation user cannot reach it`, REGENERATE);
      continue;
    }
    for (const key of ['account_id', 'role_name', 'region'] as const) {
      if (listed[key] !== entry[key]) {
        c.add(file, `sites["${id}"].${key} is ${text(listed[key])} but the site config says ${text(entry[key])}`, REGENERATE);
      }
    }
  }
  for (const id of Object.keys(have)) {
    if (want[id]) continue;
    const site = sites.find((s) => s.id === id);
    const why = !site ? 'there is no such site' : !site.config ? 'its site config has problems' : !site.config.aws ? 'it has no "aws" block' : 'it has no active podcast';
    c.add(file, `lists site "${id}", but ${why}: the automation user may assume a role it should not`, REGENERATE);
  }
}
