import {
  DEFAULT_AUTOMATION_ROLE_NAME,
  DEFAULT_MODEL,
  type ConfigProblem,
  type DownloadsConfig,
  type SiteConfig,
  type SiteConfigFile,
} from '@podline/config';
import { buildAutomationTfvars, readCentralTfvars } from './automation';
import { HclSyntaxError, parseHcl } from './hcl';
import { layout, schemaRefFor } from './layout';
import { defaultBucketName, defaultIndexFunctionName, defaultStateBucket } from './naming';
import type { WorkspaceReader } from './reader';
import { renderCentralTfvars, renderSiteBackend, renderSiteTfvars, siteBackendFor, siteTfvarsFor } from './site-vars';
import { discoverSites, readSiteConfig } from './sites';

/** Where a site's files live: a folder on this machine (with a local index, no AWS), or an S3 bucket. */
export type SiteStorageChoice = 'local' | 's3';

export interface NewSiteInput {
  id: string;
  title: string;
  feedUrl: string;
  /** Default: 's3'. A local site needs no AWS account and gets no Terraform files. */
  storage?: SiteStorageChoice;
  /** Required for an S3 site. */
  awsAccountId?: string;
  /** Required for an S3 site. */
  region?: string;
  /** Id of the site's first podcast. Default: the site id. */
  podcastId?: string;
  /** Default: "podline-automation". */
  automationRoleName?: string;
  /** Account of the central automation user; only used when terraform/sites/central.auto.tfvars does not exist yet. Default: awsAccountId. */
  centralAccountId?: string;
  /** Bucket holding the Terraform state. Default: podline-tfstate-<awsAccountId>. */
  stateBucket?: string;
  /** Which episodes get audio and how many per run (the config's "downloads"). Default: none set (all, at once). */
  downloads?: DownloadsConfig;
  /** Transcripts per run (transcription.maxEpisodesPerRun). Default: no cap. */
  maxEpisodesPerRun?: number;
}

/** The AWS side of an S3 site: what `nx g site --storage=s3` and `nx g site-storage --storage=s3` take. */
export type AwsSiteInput = Pick<NewSiteInput, 'id' | 'automationRoleName' | 'centralAccountId' | 'stateBucket'> & { awsAccountId: string; region: string };

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

/** The site config a new site starts with: a local folder and a local index, or S3 storage and the indexing Lambda the Terraform creates. */
export function newSiteConfig(input: NewSiteInput): SiteConfigFile {
  const file = layout.siteConfig(input.id);
  const base: SiteConfigFile = {
    $schema: schemaRefFor(file),
    id: input.id,
    title: input.title,
    podcasts: [{ id: input.podcastId ?? input.id, title: input.title, feedUrl: input.feedUrl, active: true }],
  };
  const transcription = { engine: 'whisper' as const, model: DEFAULT_MODEL, language: 'en', ...(input.maxEpisodesPerRun ? { maxEpisodesPerRun: input.maxEpisodesPerRun } : {}) };
  const downloads = input.downloads && Object.keys(input.downloads).length ? { downloads: input.downloads } : {};
  if ((input.storage ?? 's3') === 'local') return { ...base, ...localStorageFields(), transcription, ...downloads, index: { kind: 'local' } };
  const aws = awsStorageFields({ ...input, awsAccountId: input.awsAccountId ?? '', region: input.region ?? '' });
  return { ...base, storage: aws.storage, aws: aws.aws, transcription, ...downloads, index: aws.index };
}

/** The storage part of a local site: the local-folder bucket (data/.bucket/<id>) and, with it, the local index. */
function localStorageFields(): Pick<SiteConfigFile, 'storage'> {
  return { storage: { kind: 'local' } };
}

/** The storage, account and index parts of an S3 site, named as the Terraform names them. */
function awsStorageFields(input: AwsSiteInput): Required<Pick<SiteConfigFile, 'storage' | 'aws' | 'index'>> {
  return {
    storage: { kind: 's3', bucket: defaultBucketName(input.id, input.awsAccountId), region: input.region },
    aws: { accountId: input.awsAccountId, region: input.region, automationRoleName: input.automationRoleName ?? DEFAULT_AUTOMATION_ROLE_NAME },
    index: { kind: 'lambda', functionName: defaultIndexFunctionName(input.id) },
  };
}

/** An S3 site needs its account and region: say which option is missing instead of failing validation obscurely. */
function missingAwsOptions(file: string, input: { awsAccountId?: string; region?: string }): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (!input.awsAccountId) problems.push({ file, field: 'aws.accountId', message: 'is required for a site kept in S3', fix: 'pass --awsAccountId=<12-digit account id>, or choose --storage=local to start without AWS' });
  if (!input.region) problems.push({ file, field: 'aws.region', message: 'is required for a site kept in S3', fix: 'pass --region=<region, e.g. us-east-1>' });
  return problems;
}

/**
 * Whether some existing site var file already creates the automation role `role` in `account`
 * (so a new site there must only reference it). Unparsable var files are reported, not guessed at.
 */
async function roleCreatorIn(reader: WorkspaceReader, account: string, role: string, problems: ConfigProblem[], ownFile: string): Promise<string | undefined> {
  for (const name of reader.children(layout.environmentsDir)) {
    if (!name.endsWith('.tfvars')) continue;
    const file = `${layout.environmentsDir}/${name}`;
    if (file === ownFile) continue; // the site's own var file is being (re)written
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
 * Everything `nx g site` writes for a new site. A local site: its config only. An S3 site: its config,
 * its tfvars and backend file, the central identity file (first site only) and the regenerated automation
 * site list. Pure: reads through `reader`,
 * returns the files; the caller writes them (or only lists them in a dry run).
 */
export async function planNewSite(reader: WorkspaceReader, input: NewSiteInput): Promise<NewSitePlan> {
  const configFile = layout.siteConfig(input.id);
  const storage = input.storage ?? 's3';
  if (storage === 's3') {
    const missing = missingAwsOptions(configFile, input);
    if (missing.length) return { files: [], createsAutomationRole: false, problems: missing };
  }
  const problems: ConfigProblem[] = [];
  const config = newSiteConfig(input);
  const configText = JSON.stringify(config, null, 2) + '\n';

  // The same validation the loader applies (id pattern, feed URL, account id, region, bucket name…).
  const checked = readSiteConfig(configFile, configText);
  problems.push(...checked.problems);

  // Refuse an id that exists anywhere: a site folder (also nested ones) or leftover Terraform files.
  const existing = discoverSites(reader).find((s) => s.id === input.id);
  if (existing) problems.push({ file: existing.file, field: 'id', message: `site "${input.id}" already exists`, fix: 'choose another id, or edit the existing site config' });
  if (storage === 'local') {
    if (problems.length) return { files: [], createsAutomationRole: false, problems };
    return { files: [{ path: configFile, content: configText }], createsAutomationRole: false, problems };
  }
  for (const leftover of [layout.siteTfvars(input.id), layout.siteBackend(input.id)]) {
    if (!existing && reader.read(leftover) !== undefined) {
      problems.push({ file: leftover, field: '', message: `already exists although site "${input.id}" does not`, fix: 'choose another id, or delete the leftover file (after `terraform destroy` with it, if it was applied)' });
    }
  }
  return planSiteTerraform(reader, { path: configFile, content: configText }, checked.config, input as AwsSiteInput, problems);
}

/**
 * The Terraform files of an S3 site whose config is `configFile`: its tfvars and backend file, the
 * central identity file (first site only) and the regenerated automation site list. `problems` are the
 * ones found so far; any problem means no files.
 */
async function planSiteTerraform(
  reader: WorkspaceReader,
  configFile: PlannedFile,
  site: SiteConfig | undefined,
  input: AwsSiteInput,
  problems: ConfigProblem[],
): Promise<NewSitePlan> {
  const central = await readCentralTfvars(reader, problems);
  if (central?.central_account_id && input.centralAccountId && central.central_account_id !== input.centralAccountId) {
    problems.push({ file: layout.centralTfvars, field: 'central_account_id', message: `is already "${central.central_account_id}", not "${input.centralAccountId}"`, fix: 'leave out --centralAccountId, or change the central account in that file (then apply every site again)' });
  }
  if (input.centralAccountId !== undefined && !/^\d{12}$/.test(input.centralAccountId)) {
    problems.push({ file: layout.centralTfvars, field: 'central_account_id', message: `"${input.centralAccountId}" is not an AWS account id`, fix: 'use the 12-digit account id of the automation user' });
  }

  const role = input.automationRoleName ?? DEFAULT_AUTOMATION_ROLE_NAME;
  const creator = await roleCreatorIn(reader, input.awsAccountId, role, problems, layout.siteTfvars(input.id));
  if (problems.length || !site) return { files: [], createsAutomationRole: false, problems };

  const files: PlannedFile[] = [
    configFile,
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

export interface StorageChangeInput extends Partial<AwsSiteInput> {
  id: string;
  storage: SiteStorageChoice;
}

/**
 * `nx g site-storage <id> --storage=s3|local`: the same site, its files kept elsewhere. Only the config's
 * `storage`, `aws` and `index` change (plus, for S3, the Terraform files a new S3 site gets); the site
 * id, podcast ids, transcription settings and everything in the data folder stay, so the next `upload`
 * pushes the episodes, audio and transcripts already there to the new bucket.
 */
export async function planStorageChange(reader: WorkspaceReader, input: StorageChangeInput): Promise<NewSitePlan> {
  const none = (problems: ConfigProblem[]): NewSitePlan => ({ files: [], createsAutomationRole: false, problems });
  const found = discoverSites(reader).find((s) => s.id === input.id);
  if (!found) {
    return none([{ file: layout.siteConfig(input.id), field: 'id', message: `site "${input.id}" does not exist`, fix: 'check the id (`npx nx show projects --projects=tag:site` lists the sites), or add it with `npx nx g site`' }]);
  }
  if (found.problems.length) return none(found.problems);
  const raw = JSON.parse(reader.read(found.file)!) as SiteConfigFile;
  const current = raw.storage?.kind ?? 'local';
  if (current === input.storage) {
    return none([{ file: found.file, field: 'storage.kind', message: `site "${input.id}" already keeps its files in ${input.storage === 's3' ? 'S3' : 'a local folder'}`, fix: 'nothing to do' }]);
  }
  if (input.storage === 'local') {
    const { aws: _aws, ...rest } = raw;
    const next: SiteConfigFile = { ...rest, ...localStorageFields(), index: { kind: 'local' } };
    const file = { path: found.file, content: JSON.stringify(next, null, 2) + '\n' };
    const files = [file];
    const automation = await buildAutomationTfvars(overlay(reader, files));
    if (automation.content === undefined) return none(automation.problems);
    if (automation.content !== reader.read(automation.file)) files.push({ path: automation.file, content: automation.content });
    return { files, createsAutomationRole: false, problems: [] };
  }
  const missing = missingAwsOptions(found.file, input);
  if (missing.length) return none(missing);
  const aws = input as AwsSiteInput;
  const next: SiteConfigFile = { ...raw, ...awsStorageFields(aws) };
  const content = JSON.stringify(next, null, 2) + '\n';
  const checked = readSiteConfig(found.file, content);
  return planSiteTerraform(reader, { path: found.file, content }, checked.config, aws, [...checked.problems]);
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
