import { logger, type Tree } from '@nx/devkit';
import { formatProblems, type DownloadsConfig } from '@podline/config';
import { planNewSite, type SiteStorageChoice, type WorkspaceReader } from '@podline/terraform-check';
import { isInteractive, terminalAsk, type AskText } from '../prompt';
import type { SiteGeneratorSchema } from './schema';

/** The Nx tree as the read-only view @podline/terraform-check works on. */
export function treeReader(tree: Tree): WorkspaceReader {
  return {
    read: (file) => (tree.exists(file) && tree.isFile(file) ? (tree.read(file, 'utf8') ?? undefined) : undefined),
    children: (dir) => (tree.exists(dir) ? tree.children(dir) : []),
  };
}

/** Account ids typed on the command line arrive as numbers (the parser keeps ones with a leading zero as strings, so the decimal text is exact). */
export const accountText = (value: string | number | undefined) => (value === undefined ? undefined : String(value));

/** `--storage`, checked, or the default: S3 when AWS options were given (scripts written before local sites existed), else local. */
export function storageChoice(storage: string | undefined, awsAccountId: unknown, id: string): SiteStorageChoice {
  if (storage === undefined) return awsAccountId !== undefined ? 's3' : 'local';
  if (storage === 'local' || storage === 's3') return storage;
  throw new Error(`Cannot add site "${id}": --storage must be "local" (files on this machine) or "s3" (an S3 bucket), not "${storage}"`);
}

/**
 * The AWS account and region of an S3 site: from the options, else asked (interactive runs only; a
 * script gets the planner's error naming the missing option).
 */
export async function awsAnswers(options: { awsAccountId?: string | number; region?: string }, ask: AskText | undefined) {
  let awsAccountId = accountText(options.awsAccountId);
  let region = options.region;
  if (ask && awsAccountId === undefined) awsAccountId = (await ask('AWS account id of the site (12 digits)?')) || undefined;
  if (ask && region === undefined) region = (await ask('AWS region?', 'us-east-1')) || 'us-east-1';
  return { awsAccountId, region };
}

/** Defaults of the episode choice: the newest 20, the last 90 days; slices of 20 downloads and 3 transcripts per run. */
export const EPISODE_DEFAULTS = Object.freeze({ newest: 20, lastDays: 90, maxDownloadsPerRun: 20, maxEpisodesPerRun: 3 });

/**
 * Which episodes a new site takes (the config's "downloads" and transcription.maxEpisodesPerRun): the whole
 * back catalogue in bounded slices, the newest N or the last N days. N is asked when interactive and not given.
 */
export async function episodeChoice(options: Pick<SiteGeneratorSchema, 'id' | 'episodes' | 'newest' | 'lastDays' | 'maxDownloadsPerRun' | 'maxEpisodesPerRun'>, ask: AskText | undefined) {
  const episodes = options.episodes ?? 'all';
  if (episodes !== 'all' && episodes !== 'newest' && episodes !== 'recent') {
    throw new Error(`Cannot add site "${options.id}": --episodes must be "all" (the whole back catalogue), "newest" or "recent", not "${String(episodes)}"`);
  }
  const number = async (given: number | undefined, question: string, fallback: number) => {
    if (given !== undefined) return given;
    const answer = ask ? Number(await ask(question, String(fallback))) : NaN;
    return Number.isInteger(answer) && answer > 0 ? answer : fallback;
  };
  const downloads: DownloadsConfig = {};
  if (episodes === 'newest') downloads.newest = await number(options.newest, 'How many of the newest episodes of each podcast?', EPISODE_DEFAULTS.newest);
  if (episodes === 'recent') downloads.lastDays = await number(options.lastDays, 'Episodes from how many of the last days?', EPISODE_DEFAULTS.lastDays);
  const perRun = options.maxDownloadsPerRun ?? EPISODE_DEFAULTS.maxDownloadsPerRun;
  if (perRun > 0) downloads.maxPerRun = perRun;
  const maxEpisodesPerRun = options.maxEpisodesPerRun ?? EPISODE_DEFAULTS.maxEpisodesPerRun;
  return { downloads, ...(maxEpisodesPerRun > 0 ? { maxEpisodesPerRun } : {}) };
}

/** What the new site takes per run, in words. */
function slicesText(e: Awaited<ReturnType<typeof episodeChoice>>): string {
  const which = e.downloads.newest ? `the newest ${e.downloads.newest} episodes` : e.downloads.lastDays ? `the episodes of the last ${e.downloads.lastDays} days` : 'the whole back catalogue';
  const dl = e.downloads.maxPerRun ? `${e.downloads.maxPerRun} downloads` : 'every download';
  const tr = e.maxEpisodesPerRun ? `${e.maxEpisodesPerRun} transcripts` : 'every transcript';
  return `Episodes: ${which}, newest first, ${dl} and ${tr} per run (the rest wait for the next runs; "downloads" and transcription.maxEpisodesPerRun in its site.config.json).`;
}

/**
 * `nx g site <id>`: a new site. `--storage=local` writes only the site config (local-folder bucket,
 * local index); `--storage=s3` writes the config and the site's Terraform files. All decisions
 * (validation with the config loader's rules, whether this site creates its account's automation role)
 * are made by planNewSite; this only writes the planned files into the tree, so `--dry-run` lists them
 * and writes nothing. `ask` answers the questions a schema prompt cannot ask (tests pass their own).
 */
export default async function siteGenerator(tree: Tree, options: SiteGeneratorSchema, ask: AskText | undefined = isInteractive() ? terminalAsk : undefined) {
  const storage = storageChoice(options.storage, options.awsAccountId, options.id);
  if (storage === 'local') {
    const stray = (['awsAccountId', 'region', 'automationRoleName', 'centralAccountId', 'stateBucket'] as const).filter((k) => options[k] !== undefined);
    if (stray.length) {
      throw new Error(`Cannot add site "${options.id}": ${stray.map((k) => `--${k}`).join(', ')} only apply to a site kept in S3. Fix: add --storage=s3, or leave them out for a local site`);
    }
  }
  const aws: { awsAccountId?: string; region?: string } = storage === 's3' ? await awsAnswers(options, ask) : {};
  const episodes = await episodeChoice(options, ask);
  const plan = await planNewSite(treeReader(tree), {
    id: options.id,
    title: options.title,
    feedUrl: options.feedUrl,
    storage,
    ...aws,
    podcastId: options.podcastId,
    automationRoleName: options.automationRoleName,
    centralAccountId: accountText(options.centralAccountId),
    stateBucket: options.stateBucket,
    ...episodes,
  });
  if (plan.problems.length) {
    throw new Error(`Cannot add site "${options.id}":\n${formatProblems(plan.problems)}`);
  }
  for (const file of plan.files) tree.write(file.path, file.content);
  return () => {
    const next =
      storage === 'local'
        ? [
            `Site "${options.id}" added: its files stay on this machine (data/${options.id}/, the bucket folder data/.bucket/${options.id}/) and its search index is built here.`,
            `Next: npx nx run ${options.id}:index, then npx nx run ${options.id}:search --query="…". To move it to S3 later: npx nx g site-storage ${options.id} --storage=s3.`,
          ]
        : [
            `Site "${options.id}" added${plan.createsAutomationRole ? ` (it creates the automation role of account ${aws.awsAccountId})` : ''}.`,
            'Next: npx nx run tools:validate-terraform, then plan and apply it as terraform/README.md describes.',
          ];
    logger.info([...next, slicesText(episodes)].join('\n'));
  };
}
