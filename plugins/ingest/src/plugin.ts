import type {
  CreateDependencies,
  CreateNodes,
  CreateNodesResult,
  TargetConfiguration,
} from '@nx/devkit';
import { createNodesFromFiles, DependencyType } from '@nx/devkit';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { pipelineProjects } from './pipeline-projects';
import {
  PIPELINE,
  BACKLOG_STATE,
  PRODUCTS_STATE,
  SITES_DIR,
  isSiteConfigPath,
  siteIdClashProblem,
  siteIdClashes,
  stateFileRel,
  parseSiteConfig,
  formatProblems,
  type ConfigProblem,
  type PipelinePhase,
  type SiteConfigFile,
} from '@podline/config';

export interface IngestPluginOptions {
  /** Prefix of target names, e.g. "podline-" gives "podline-rss" (tools:pipeline reads it too). Default: none. */
  targetPrefix?: string;
}

export { PIPELINE, isSiteConfigPath };

const DESCRIPTIONS: Record<PipelinePhase | 'search' | 'serve', string> = {
  'pre-sync': 'Pull what the bucket has and this machine lacks (never overwrites local files). Looks outward: always runs.',
  check: 'Compare the data folder with the bucket: only-local, only-bucket, differing. Looks outward: always runs.',
  rss: 'Read the feeds (conditional requests), update the episode manifest, download new audio. Looks outward: always runs.',
  transcribe: 'Turn new audio into SRT transcripts (publisher transcript first, else local Whisper). Cached on the rss state.',
  upload: 'Push everything the bucket lacks; the manifest last. Cached on the rss and transcribe states.',
  index: 'Build the search entries and index, or invoke the site\'s indexing Lambda. Runs only when the bucket content changed.',
  search: 'Query the site\'s local search index (--query="…", --json).',
  serve: 'Serve the site\'s search page from its bucket folder with range requests and print the URL (--port).',
};

/** Targets that look outward (feed, bucket): never cached, cheap, and byte-identical state when nothing changed. */
const OUTWARD = new Set<PipelinePhase>(['pre-sync', 'check', 'rss']);

/** Environment that changes where data lives or which model runs: part of every cacheable target's hash. */
const ENV_INPUTS = [{ env: 'PODLINE_DATA_DIR' }, { env: 'PODLINE_MODELS_DIR' }];

function inputsFor(target: PipelinePhase): TargetConfiguration['inputs'] {
  const base: NonNullable<TargetConfiguration['inputs']> = ['default', '^production', ...ENV_INPUTS];
  switch (target) {
    case 'transcribe':
      // The rss states: the manifest and the audio set, what the data folder lost, what is still to transcribe.
      return [...base, { dependentTasksOutputFiles: '**/*.json' }];
    case 'upload':
      // What this machine has to offer: the states of rss (manifest, audio) and transcribe (transcripts).
      // Not pre-sync's or check's: they describe the bucket *before* the upload, which the upload itself
      // changes, so hashing them would make the next run re-upload for nothing.
      return [...base, { dependentTasksOutputFiles: '**/{rss,transcribe}.json', transitive: true }];
    case 'index':
      // Upload's state: the bucket's content digest, which changes exactly when something was uploaded;
      // and rss's products state, which changes when the data folder lost what the index's state vouches for.
      return [...base, { dependentTasksOutputFiles: '**/*.json' }, { dependentTasksOutputFiles: `**/${PRODUCTS_STATE}.json`, transitive: true }];
    default:
      return base;
  }
}

export function siteTargets(siteId: string, prefix = '', transcriptionMode: 'local' | 'queue' = 'local'): Record<string, TargetConfiguration> {
  const targets: Record<string, TargetConfiguration> = {};
  PIPELINE.forEach((name, i) => {
    // In queue mode transcribe looks outward too (what workers finished): it always runs, and is cheap
    // when nothing is pending (no episode needs a transcript: no connection at all).
    const outward = OUTWARD.has(name) || (name === 'transcribe' && transcriptionMode === 'queue');
    targets[prefix + name] = {
      executor: `@podline/ingest:${name}`,
      // 'forward': options given on the command line (--dryRun above all) reach every phase before it too.
      dependsOn: i === 0 ? [] : [{ target: prefix + PIPELINE[i - 1], params: 'forward' }],
      cache: !outward,
      inputs: inputsFor(name),
      // rss also writes the products state (what the data folder lost of the cached targets' products) and the
      // backlog state (what transcribe still owes when it works in slices).
      outputs: [
        `{workspaceRoot}/${stateFileRel(siteId, name)}`,
        ...(name === 'rss' ? [`{workspaceRoot}/${stateFileRel(siteId, PRODUCTS_STATE)}`, `{workspaceRoot}/${stateFileRel(siteId, BACKLOG_STATE)}`] : []),
      ],
      options: {},
      metadata: {
        description: DESCRIPTIONS[name],
        technologies: ['podline'],
      },
    };
  });
  targets[prefix + 'search'] = {
    executor: '@podline/ingest:search',
    cache: false,
    options: {},
    metadata: { description: DESCRIPTIONS.search, technologies: ['podline'] },
  };
  targets[prefix + 'serve'] = {
    executor: '@podline/ingest:serve',
    cache: false,
    continuous: true,
    options: {},
    metadata: { description: DESCRIPTIONS.serve, technologies: ['podline'] },
  };
  return targets;
}

function tagsFor(raw: Partial<SiteConfigFile> | undefined): string[] {
  const tags = ['site'];
  if (!raw) return [...tags, 'config:invalid'];
  tags.push(`storage:${raw.storage?.kind ?? 'local'}`);
  tags.push(`index:${raw.index?.kind ?? 'local'}`);
  if (raw.aws?.accountId) tags.push(`aws:${raw.aws.accountId}`);
  return tags;
}

/**
 * One project per site config. A broken config (bad JSON, failed validation) still yields its project (named
 * after the folder), so only that site's tasks fail, with the loader's message, and every other site's cron
 * run carries on. Anything else (an unreadable file) is thrown, and reported by Nx for that file alone. Two
 * folders with the same site id (`sites/a/show`, `sites/b/show`) are both kept, named by their path under
 * sites/ (`a/show`, `b/show`) so the project graph still builds, and both fail naming the two folders.
 */
export function createSiteNode(configFile: string, workspaceRoot: string, options: IngestPluginOptions = {}, clashesWith?: readonly string[]): CreateNodesResult {
  const root = path.dirname(configFile);
  const folder = path.basename(root);
  const parsed = parseSiteConfig(readFileSync(path.join(workspaceRoot, configFile), 'utf8'), configFile, folder);
  const raw = parsed.raw as Partial<SiteConfigFile> | undefined;
  const found: ConfigProblem[] = clashesWith?.length ? [siteIdClashProblem(root.split(path.sep).join('/'), clashesWith)] : [];
  found.push(...parsed.problems);
  const problems = found.length ? formatProblems(found) : undefined;
  // The folder is the project name, valid config or not; a clashing one is named by its path under sites/.
  const id = clashesWith?.length ? path.relative(SITES_DIR, root).split(path.sep).join('/') : folder;
  return {
    projects: {
      [root]: {
        name: id,
        root,
        projectType: 'application',
        tags: tagsFor(problems ? undefined : raw),
        targets: siteTargets(id, options.targetPrefix ?? '', raw?.transcription?.mode === 'queue' ? 'queue' : 'local'),
        metadata: {
          description: problems ? `Podcast site ${id} — config has problems:\n${problems}` : `Podcast site ${raw?.title ?? id}`,
        },
      },
    },
  };
}

export const createNodes: CreateNodes<IngestPluginOptions> = [
  'sites/**/site.config.json',
  (configFiles, options, context) => {
    const files = configFiles.filter(isSiteConfigPath);
    // One site id in two folders: both are named by their path and fail naming each other.
    const clashes = siteIdClashes(files);
    // Per file: one file's failure is reported with its name, and every other site still gets its project.
    return createNodesFromFiles(
      (file, opts, ctx) => createSiteNode(file, ctx.workspaceRoot, opts ?? {}, clashes.get(path.basename(path.dirname(file)))),
      files,
      options ?? {},
      context,
    );
  },
];

/** The plugin and the libs a site's pipeline runs (derived from the executors' imports): changes to them affect every site. */
export const PIPELINE_PROJECTS = pipelineProjects();

export const createDependencies: CreateDependencies<IngestPluginOptions> = (_options, context) => {
  const deps = [];
  for (const [name, project] of Object.entries(context.projects)) {
    if (!project.root.startsWith('sites/') || !project.tags?.includes('site')) continue;
    for (const lib of PIPELINE_PROJECTS) {
      if (!context.projects[lib]) continue;
      deps.push({
        source: name,
        target: lib,
        type: DependencyType.static,
        sourceFile: `${project.root}/site.config.json`,
      });
    }
  }
  return deps;
};
