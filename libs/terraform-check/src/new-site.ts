import {
  DEFAULT_AUTOMATION_ROLE_NAME,
  DEFAULT_MODEL,
  type ConfigProblem,
  type SiteConfigFile,
} from '@podline/config';
import { buildAutomationTfvars, readCentralTfvars } from './automation';
import { HclSyntaxError, parseHcl } from './hcl';
import { layout, schemaRefFor } from './layout';
import { defaultBucketName, defaultIndexFunctionName, defaultStateBucket } from './naming';
import type { WorkspaceReader } from './reader';
import { renderCentralTfvars, renderSiteBackend, renderSiteTfvars, siteBackendFor, siteTfvarsFor } from './site-vars';
import { discoverSites, readSiteConfig } from './sites';

export interface NewSiteInput {
  id: string;
  title: string;
  feedUrl: string;
  awsAccountId: string;
  region: string;
  /** Id of the site's first podcast. Default: the site id. */
  podcastId?: string;
  /** Default: "podline-automation". */
  automationRoleName?: string;
  /** Account of the central automation user; only used when terraform/sites/central.auto.tfvars does not exist yet. Default: awsAccountId. */
  centralAccountId?: string;
  /** Bucket holding the Terraform state. Default: podline-tfstate-<awsAccountId>. */
  stateBucket?: string;
}

export interface PlannedFile {
  path: string;
  content: string;
}

export interface NewSitePlan {
  files: PlannedFile[];
  /** Whether this site's tfvars creates the account's automation role (no other site does yet). */
  createsAutomationRole: boolean;
  problems: ConfigProblem[];
}

/** The site config a new AWS site starts with: S3 storage and the indexing Lambda the Terraform creates. */
export function newSiteConfig(input: NewSiteInput): SiteConfigFile {
  const file = layout.siteConfig(input.id);
  return {
    $schema: schemaRefFor(file),
    id: input.id,
    title: input.title,
    podcasts: [{ id: input.podcastId ?? input.id, title: input.title, feedUrl: input.feedUrl, active: true }],
    storage: { kind: 's3', bucket: defaultBucketName(input.id, input.awsAccountId), region: input.region },
    aws: { accountId: input.awsAccountId, region: input.region, automationRoleName: input.automationRoleName ?? DEFAULT_AUTOMATION_ROLE_NAME },
    transcription: { engine: 'whisper', model: DEFAULT_MODEL, language: 'en' },
    index: { kind: 'lambda', functionName: defaultIndexFunctionName(input.id) },
  };
}

/**
 * Whether some existing site var file already creates the automation role `role` in `account`
 * (so a new site there must only reference it). Unparsable var files are reported, not guessed at.
 */
async function roleCreatorIn(reader: WorkspaceReader, account: string, role: string, problems: ConfigProblem[]): Promise<string | undefined> {
  for (const name of reader.children(layout.environmentsDir)) {
    if (!name.endsWith('.tfvars')) continue;
    const file = `${layout.environmentsDir}/${name}`;
    try {
      const doc = await parseHcl(file, reader.read(file) ?? '');
      const docRole = doc.automation_role_name ?? DEFAULT_AUTOMATION_ROLE_NAME;
      if (doc.automation_account_id === account && docRole === role && doc.create_automation_role === true) return file;
    } catch (err) {
      if (!(err instanceof HclSyntaxError)) throw err;
      problems.push({ file, field: '', message: `is not valid HCL: ${err.detail}`, fix: 'correct it first: it decides whether the new site creates the automation role' });
    }
  }
  return undefined;
}

/**
 * Everything `nx g site` writes for a new site: its config, its tfvars and backend file, the central
 * identity file (first site only) and the regenerated automation site list. Pure: reads through `reader`,
 * returns the files; the caller writes them (or only lists them in a dry run).
 */
export async function planNewSite(reader: WorkspaceReader, input: NewSiteInput): Promise<NewSitePlan> {
  const problems: ConfigProblem[] = [];
  const configFile = layout.siteConfig(input.id);
  const config = newSiteConfig(input);
  const configText = JSON.stringify(config, null, 2) + '\n';

  // The same validation the loader applies (id pattern, feed URL, account id, region, bucket name…).
  const checked = readSiteConfig(configFile, configText);
  problems.push(...checked.problems);

  // Refuse an id that exists anywhere: a site folder (also nested ones) or leftover Terraform files.
  const existing = discoverSites(reader).find((s) => s.id === input.id);
  if (existing) problems.push({ file: existing.file, field: 'id', message: `site "${input.id}" already exists`, fix: 'choose another id, or edit the existing site config' });
  for (const leftover of [layout.siteTfvars(input.id), layout.siteBackend(input.id)]) {
    if (!existing && reader.read(leftover) !== undefined) {
      problems.push({ file: leftover, field: '', message: `already exists although site "${input.id}" does not`, fix: 'choose another id, or delete the leftover file (after `terraform destroy` with it, if it was applied)' });
    }
  }

  const central = await readCentralTfvars(reader, problems);
  if (central?.central_account_id && input.centralAccountId && central.central_account_id !== input.centralAccountId) {
    problems.push({ file: layout.centralTfvars, field: 'central_account_id', message: `is already "${central.central_account_id}", not "${input.centralAccountId}"`, fix: 'leave out --centralAccountId, or change the central account in that file (then apply every site again)' });
  }
  if (input.centralAccountId !== undefined && !/^\d{12}$/.test(input.centralAccountId)) {
    problems.push({ file: layout.centralTfvars, field: 'central_account_id', message: `"${input.centralAccountId}" is not an AWS account id`, fix: 'use the 12-digit account id of the automation user' });
  }

  const role = input.automationRoleName ?? DEFAULT_AUTOMATION_ROLE_NAME;
  const creator = await roleCreatorIn(reader, input.awsAccountId, role, problems);
  if (problems.length || !checked.config) return { files: [], createsAutomationRole: false, problems };

  const site = checked.config;
  const files: PlannedFile[] = [
    { path: configFile, content: configText },
    { path: layout.siteTfvars(input.id), content: renderSiteTfvars(siteTfvarsFor(site, !creator)) },
    {
      path: layout.siteBackend(input.id),
      content: renderSiteBackend(input.id, siteBackendFor(input.id, input.stateBucket ?? defaultStateBucket(input.awsAccountId), input.region)),
    },
  ];
  if (!central) {
    files.push({
      path: layout.centralTfvars,
      content: renderCentralTfvars({ central_account_id: input.centralAccountId ?? input.awsAccountId, automation_user_name: DEFAULT_AUTOMATION_ROLE_NAME }),
    });
  }

  // The automation list, regenerated as if the new files were already written.
  const automation = await buildAutomationTfvars(overlay(reader, files));
  if (automation.content === undefined) return { files: [], createsAutomationRole: false, problems: automation.problems };
  if (automation.content !== reader.read(automation.file)) files.push({ path: automation.file, content: automation.content });
  return { files, createsAutomationRole: !creator, problems };
}

/** `reader` with `files` written over it (nothing touches the disk or tree). */
export function overlay(reader: WorkspaceReader, files: PlannedFile[]): WorkspaceReader {
  const byPath = new Map(files.map((f) => [f.path, f.content]));
  return {
    read: (file) => byPath.get(file) ?? reader.read(file),
    children: (dir) => {
      const names = new Set(reader.children(dir));
      for (const f of files) {
        if (!f.path.startsWith(dir + '/')) continue;
        names.add(f.path.slice(dir.length + 1).split('/')[0]);
      }
      return [...names].sort();
    },
  };
}
