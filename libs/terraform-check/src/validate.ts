import { DEFAULT_AUTOMATION_ROLE_NAME, isTempOrJunk, siteRegion, type ConfigProblem, type SiteConfig } from '@podline/config';
import { automationSitesFrom, type AutomationSite } from './automation';
import { declaredVariables, HclSyntaxError, parseHcl, type HclDocument } from './hcl';
import { AUTOMATION_MODULE_DIR, layout, SITES_MODULE_DIR } from './layout';
import { siteStateKey } from './naming';
import { checkSearchPageTf, SEARCH_PAGE_TF } from './search-page';
import type { WorkspaceReader } from './reader';
import { siteTfvarsFor, TFVARS_SOURCE, type SiteTfvars } from './site-vars';
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
 *   and the same central identity as terraform/sites/central.auto.tfvars;
 * - the site bucket aborts incomplete multipart uploads (a killed upload's parts are otherwise kept and billed).
 * Returns every problem, each with the file and the fix; empty when the tree is consistent.
 */
export async function validateTerraform(reader: WorkspaceReader): Promise<ConfigProblem[]> {
  const c = new Collector(reader);
  const sites = discoverSites(reader);
  for (const s of sites) c.problems.push(...s.problems);
  const tree: Tree = {
    sites,
    byId: new Map(),
    awsSites: sites.filter((s): s is AwsSite => !!s.config?.aws),
    sitesVars: await c.moduleVariables(SITES_MODULE_DIR),
    automationVars: await c.moduleVariables(AUTOMATION_MODULE_DIR),
    central: await c.parse(layout.centralTfvars),
    tfvars: await c.filesByStem(layout.environmentsDir, '.tfvars'),
    backends: await c.filesByStem(layout.backendsDir, '.tfbackend'),
  };
  for (const s of sites) {
    const other = tree.byId.get(s.id);
    if (other) c.add(s.file, `has the same site id "${s.id}" as ${other.file}`, 'rename one of the site folders (and its "id")');
    tree.byId.set(s.id, s);
  }

  checkCentral(c, tree);
  checkOrphans(c, tree, tree.tfvars);
  checkOrphans(c, tree, tree.backends);
  for (const site of tree.awsSites) {
    if (!siteRegion(site.config)) {
      c.add(site.file, 'has no region for the site\'s AWS resources', 'add "region" to "aws", e.g. "us-east-1"', 'aws.region');
      continue;
    }
    checkSiteTfvars(c, tree, site);
    checkSiteBackend(c, tree, site);
  }
  checkRoleCreators(c, tree);
  checkNameClaims(c, tree);
  const automationExists = reader.read(layout.automationTfvars) !== undefined;
  checkAutomation(c, tree, await c.parse(layout.automationTfvars), automationExists);
  if (reader.read(SEARCH_PAGE_TF) !== undefined) {
    const web = await c.parse(SEARCH_PAGE_TF);
    if (web) for (const p of checkSearchPageTf(web)) c.add(SEARCH_PAGE_TF, p.message, p.fix);
  }
  await checkBucketLifecycle(c);
  return c.problems;
}

type AwsSite = DiscoveredSite & { config: SiteConfig & { aws: NonNullable<SiteConfig['aws']> } };
type ParsedFiles = Map<string, { file: string; doc?: HclDocument }>;

/** Everything read once, shared by the checks. */
interface Tree {
  sites: DiscoveredSite[];
  byId: Map<string, DiscoveredSite>;
  awsSites: AwsSite[];
  sitesVars?: Variables;
  automationVars?: Variables;
  central?: HclDocument;
  tfvars: ParsedFiles;
  backends: ParsedFiles;
}

/** central.auto.tfvars: declared variables only, and present as soon as one site is in AWS. */
function checkCentral(c: Collector, tree: Tree): void {
  if (tree.central && tree.sitesVars) c.checkKeys(layout.centralTfvars, tree.central, tree.sitesVars, SITES_MODULE_DIR);
  if (tree.awsSites.length && c.reader.read(layout.centralTfvars) === undefined) {
    c.add(layout.centralTfvars, 'is missing: the sites\' automation roles do not know which user to trust', 'create it with central_account_id = "<12-digit account of the automation user>" and automation_user_name = "podline-automation"');
  }
}

/** Var files or backend files of no site, or of a local-only site. */
function checkOrphans(c: Collector, tree: Tree, files: ParsedFiles): void {
  for (const [id, { file }] of files) {
    const site = tree.byId.get(id);
    if (!site) c.add(file, `belongs to no site: there is no sites/**/${id}/site.config.json`, `delete it (after \`terraform destroy\` with it, if it was applied), or restore the site "${id}"`);
    else if (site.config && !site.config.aws) c.add(file, `belongs to site "${id}", which has no "aws" block (a local-only site needs no Terraform)`, `add "aws": {"accountId": …} to ${site.file}, or delete this file`);
  }
}

/** The site's tfvars exists, sets declared variables only, and agrees with the site config. */
function checkSiteTfvars(c: Collector, tree: Tree, site: AwsSite): void {
  const file = layout.siteTfvars(site.id);
  const { create_automation_role: _decidedPerAccount, ...expected } = siteTfvarsFor(site.config, false);
  const entry = tree.tfvars.get(site.id);
  if (!entry) {
    c.add(file, `is missing: site "${site.id}" (${site.file}) has an "aws" block`, `create it with ${tfvarsHint(expected)} and create_automation_role = true only if no other site in account ${expected.automation_account_id} has it`);
    return;
  }
  const doc = entry.doc;
  if (!doc) return; // unparsable: already reported
  if (tree.sitesVars) c.checkKeys(file, doc, tree.sitesVars, SITES_MODULE_DIR, tree.central ? [tree.central] : []);
  for (const [key, want] of Object.entries(expected) as Array<[keyof typeof expected, string]>) {
    const have = key in doc ? doc[key] : tree.sitesVars?.get(key)?.default;
    if (have === undefined || have === want) continue; // unset and required: reported by checkKeys
    const source = TFVARS_SOURCE[key];
    c.add(file, `${key} is ${text(have)} but ${site.file} says ${source} ${text(want)}`, `make them agree: set ${key} = ${text(want)} here, or correct ${source} in the site config`);
  }
  if ('create_automation_role' in doc && typeof doc.create_automation_role !== 'boolean') {
    c.add(file, `create_automation_role is ${text(doc.create_automation_role)}, not true or false`, 'set it to true (one site per account) or false');
  }
}

/** The site's backend file exists and keeps the site's state apart from every other site's. */
function checkSiteBackend(c: Collector, tree: Tree, site: AwsSite): void {
  const file = layout.siteBackend(site.id);
  const key = siteStateKey(site.id);
  const entry = tree.backends.get(site.id);
  if (!entry) {
    c.add(file, `is missing: site "${site.id}" (${site.file}) has an "aws" block`, `create it with bucket = "<state bucket>", key = "${key}", region = "${siteRegion(site.config)}", encrypt = true, use_lockfile = true`);
    return;
  }
  const doc = entry.doc;
  if (!doc) return;
  if (doc.key !== key) {
    c.add(file, `key is ${text(doc.key)}: each site needs its own state, at "${key}"`, `set key = "${key}" (a shared key would let one site's apply destroy another's resources)`);
  }
  for (const required of ['bucket', 'region']) {
    if (typeof doc[required] !== 'string' || !doc[required]) c.add(file, `does not set "${required}"`, `add ${required} = "<value>" (see terraform/README.md)`);
  }
}

/** Per account and role name (as the var files will really act), exactly one site creates the role. */
function checkRoleCreators(c: Collector, tree: Tree): void {
  const groups = new Map<string, { files: string[]; creating: string[] }>();
  const defaultRole = tree.sitesVars?.get('automation_role_name')?.default ?? DEFAULT_AUTOMATION_ROLE_NAME;
  for (const site of tree.awsSites) {
    const doc = tree.tfvars.get(site.id)?.doc;
    if (!doc || !siteRegion(site.config)) continue;
    const file = layout.siteTfvars(site.id);
    const key = `${doc.automation_account_id ?? site.config.aws.accountId}|${doc.automation_role_name ?? defaultRole}`;
    const group = groups.get(key) ?? { files: [], creating: [] };
    group.files.push(file);
    if (doc.create_automation_role === true) group.creating.push(file);
    groups.set(key, group);
  }
  for (const [key, group] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
    const [account, role] = key.split('|');
    if (group.creating.length === 0) {
      c.add(group.files[0], `no site in AWS account ${account} creates the automation role "${role}" (create_automation_role is false in ${group.files.join(', ')})`, `set create_automation_role = true in exactly one of them (the first site of the account: ${group.files[0]})`);
    } else if (group.creating.length > 1) {
      c.add(group.creating[1], `${group.creating.length} sites in AWS account ${account} create the automation role "${role}": ${group.creating.join(', ')}`, `keep create_automation_role = true in ${group.creating[0]} only; set it to false in the others`);
    }
  }
}

/** Names Terraform would create twice: bucket names are global, function names per account and region. */
function checkNameClaims(c: Collector, tree: Tree): void {
  const claims = new Map<string, { what: string; files: string[] }>();
  const claim = (key: string, what: string, file: string) => {
    const entry = claims.get(key) ?? { what, files: [] };
    entry.files.push(file);
    claims.set(key, entry);
  };
  for (const site of tree.awsSites) {
    const doc = tree.tfvars.get(site.id)?.doc;
    if (!doc) continue;
    const file = layout.siteTfvars(site.id);
    if (typeof doc.bucket_name === 'string') claim(`bucket|${doc.bucket_name}`, `bucket_name "${doc.bucket_name}"`, file);
    if (typeof doc.index_function_name === 'string') {
      claim(`fn|${doc.automation_account_id}|${doc.aws_region}|${doc.index_function_name}`, `index_function_name "${doc.index_function_name}" (account ${doc.automation_account_id}, ${doc.aws_region})`, file);
    }
  }
  for (const { what, files } of claims.values()) {
    if (files.length > 1) c.add(files[1], `uses the same ${what} as ${files[0]}: the second apply would fail or take over the first site's resource`, 'give each site its own name, in its site config and its tfvars');
  }
}

/** The automation module lists exactly the automated sites, and the user the sites' roles trust. */
function checkAutomation(c: Collector, tree: Tree, doc: HclDocument | undefined, exists: boolean): void {
  const { sites, central, automationVars: vars } = tree;
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

type Blocks = Record<string, Array<Record<string, unknown>>>;

/** The site module has a lifecycle rule on its bucket that aborts incomplete multipart uploads. */
async function checkBucketLifecycle(c: Collector): Promise<void> {
  const files = c.reader.children(SITES_MODULE_DIR).filter((n) => n.endsWith('.tf') && !isTempOrJunk(n));
  if (!files.length) return; // reported by moduleVariables
  for (const name of files) {
    const doc = (await c.parse(`${SITES_MODULE_DIR}/${name}`)) ?? {};
    const resources = (doc.resource ?? {}) as Record<string, Blocks>;
    for (const bodies of Object.values(resources.aws_s3_bucket_lifecycle_configuration ?? {})) {
      for (const body of bodies) {
        if (body.bucket !== '${aws_s3_bucket.site.id}') continue;
        const rules = (body.rule ?? []) as Array<Record<string, unknown>>;
        const aborts = rules.some((r) => {
          if (r.status !== 'Enabled') return false;
          const abort = ((r.abort_incomplete_multipart_upload ?? []) as Array<Record<string, unknown>>)[0];
          const days = abort?.days_after_initiation;
          return typeof days === 'number' && days >= 1;
        });
        if (aborts) return;
      }
    }
  }
  c.add(
    `${SITES_MODULE_DIR}/bucket.tf`,
    'has no lifecycle rule aborting incomplete multipart uploads on the site bucket: parts of a killed upload would stay, billed, for good',
    'add an aws_s3_bucket_lifecycle_configuration for aws_s3_bucket.site.id with a rule { status = "Enabled", filter {}, abort_incomplete_multipart_upload { days_after_initiation = 1 } }',
  );
}
