import type { ExecutorContext, TaskGraph } from '@nx/devkit';
import {
  ConfigError,
  PIPELINE,
  PodlineError,
  mapLimit,
  type Log,
  SitePaths,
  SymlinkError,
  dataFolderSymlinks,
  fixOf,
  findSiteConfigsOnDisk,
  siteIdClashProblem,
  siteIdClashes,
  acquireLock,
  localResourceProblem,
  lockFile,
  loadSiteConfig,
  recordProducts,
  TARGETS_WITH_PRODUCTS,
  stateFile,
  writeJsonAtomic,
  type PipelinePhase,
  type SiteConfig,
} from '@podline/config';
import { recordTask, runId, type TaskProblem, type TaskRecord, type TaskResult } from '@podline/report';
import Ajv, { type ValidateFunction } from 'ajv';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

/** Options every pipeline executor accepts. */
export interface CommonOptions {
  dryRun?: boolean;
  verbose?: boolean;
}

/** Their defaults (every schema.json repeats them, checked by a spec). */
export const COMMON_DEFAULTS: Readonly<Required<CommonOptions>> = Object.freeze({ dryRun: false, verbose: false });

/** config's one `Log`, plus `error` for the task's own failures (what every lib gets from an executor). */
export interface Logger extends Log {
  error(msg: string): void;
}

/** What an executor's `run` gets: one site, its paths, its options. */
export interface SiteTask<O> {
  workspaceRoot: string;
  projectName: string;
  target: PipelinePhase;
  site: SiteConfig;
  paths: SitePaths;
  options: O & CommonOptions;
  log: Logger;
  /** Shared between the tasks of one batch (e.g. an STS session cache across sites). */
  shared: Map<string, unknown>;
}

/**
 * What a run produced: report's one result type (its state is written to the target's state file, the Nx
 * output the next target hashes), with counts and problems optional for a run that has none.
 */
export interface TaskOutcome extends Partial<TaskResult> {
  /**
   * Keys of the data-folder files this state vouches for (cached targets): recorded in the products ledger,
   * so a later run notices when they are lost (see checkProducts in @podline/config).
   */
  products?: string[];
  /** Further state files of this target (name -> content), e.g. rss's `products` state. */
  extraStates?: Record<string, unknown>;
}

export type SiteRun<O> = (task: SiteTask<O>) => Promise<TaskOutcome>;

export interface DefineOptions {
  /** How many sites of one batch run at once (transcribe: 1, network targets: more). */
  batchConcurrency?: number;
}

/**
 * Where a task's lines go. A single task process writes live (Nx captures the process output). A batch
 * worker's own stdout is shown by Nx as well as each task's returned terminal output, so in a batch the
 * lines go only to the task's terminal output, and only progress is written live.
 */
function makeLogger(prefix: string, verbose: boolean, sink: string[], batch: boolean): Logger {
  const tty = process.stdout.isTTY && !process.env.CI;
  const out = (stream: NodeJS.WriteStream, line: string) => {
    if (batch) sink.push(line);
    else stream.write(line + '\n');
  };
  // nx keeps --verbose for itself and sets NX_VERBOSE_LOGGING for the tasks it runs.
  const debug = verbose || process.env.LOG_LEVEL === 'debug' || process.env.NX_VERBOSE_LOGGING === 'true';
  return {
    info: (m) => out(process.stdout, `${prefix} ${m}`),
    warn: (m) => out(process.stderr, `${prefix} warning: ${m}`),
    error: (m) => out(process.stderr, `${prefix} error: ${m}`),
    debug: (m) => {
      if (debug) out(process.stdout, `${prefix} debug: ${m}`);
    },
    progress: (m) => {
      if (tty) process.stdout.write(`\r\x1b[2K${prefix} ${m}`);
      else process.stdout.write(`${prefix} ${m}\n`);
    },
  };
}

function formatCounts(counts: Record<string, number> | undefined): string {
  const entries = Object.entries(counts ?? {});
  return entries.length ? entries.map(([k, v]) => `${k}=${v}`).join(' ') : 'nothing to do';
}

/**
 * One run at a time per site: every target of one Nx run shares the run's lock (keyed by its run id);
 * a second run that finds the site held by a live process fails this task without touching the site.
 * The lock is released by the plugin's postTasksExecution hook; a lock left by a dead run is taken over.
 */
async function takeSiteLock(siteId: string, workspaceRoot: string, log: Logger): Promise<void> {
  const res = await acquireLock(lockFile(workspaceRoot, siteId), {
    runId: runId(),
    // The Nx process that runs this task (batch worker or task process) is our parent.
    pid: process.ppid,
    startedAt: new Date().toISOString(),
  });
  if (!res.acquired) {
    throw new SiteBusyError(
      `site ${siteId} is being worked on by another run (pid ${res.holder.pid} on ${res.holder.host}, since ${res.holder.startedAt}); ` +
        'this run leaves it alone. It will be picked up by the next run once that one ends.',
    );
  }
  if (res.tookOverFrom) {
    log.warn(`took over the lock of site ${siteId} left by a run that is no longer alive (pid ${res.tookOverFrom.pid}, since ${res.tookOverFrom.startedAt})`);
  }
}

class SiteBusyError extends PodlineError {}

/** Targets that walk the data folder themselves, skipping symbolic links with a warning. */
const WALKING_TARGETS = new Set<string>(['pre-sync', 'check', 'upload']);

/** An option out of its schema's range. Nx checks ranges only of "number" options, and in batch mode hides why. */
class OptionError extends PodlineError {
  constructor(message: string, target: string, projectName: string) {
    super(message, { fix: `see \`nx run ${projectName}:${target} --help\` for every option and its range` });
  }
}

// The schemas are ours (schemas.spec compiles each with the meta-schema check): not checked again per process.
const ajv = new Ajv({ allErrors: true, strict: false, validateSchema: false });
const optionValidators = new Map<string, ValidateFunction>();

/** Every option of `target` against its schema.json (types, whole numbers, ranges, enums); [] when all is well. */
export function optionProblems(target: string, options: Record<string, unknown>): string[] {
  let validate = optionValidators.get(target);
  if (!validate) {
    const { $schema: _draft, ...schema } = schemaOf(target);
    validate = ajv.compile({ ...schema, additionalProperties: true }); // unknown options: see phaseOwnOptions
    optionValidators.set(target, validate);
  }
  if (validate(options)) return [];
  return (validate.errors ?? []).map((e) => {
    const name = e.instancePath.replace(/^\//, '');
    const value = options[name];
    const shown = typeof value === 'number' && !Number.isFinite(value) ? String(value) : JSON.stringify(value);
    return `--${name}=${shown} ${e.message}`;
  });
}

/** A phase's schema.json, read once. */
const schemas = new Map<string, { properties?: Record<string, unknown> } & Record<string, unknown>>();
function schemaOf(phase: string) {
  let schema = schemas.get(phase);
  if (!schema) {
    schema = JSON.parse(readFileSync(path.join(__dirname, phase, 'schema.json'), 'utf8')) as { properties?: Record<string, unknown> };
    schemas.set(phase, schema);
  }
  return schema;
}

/** An option no phase of the pipeline takes (a typo, most likely). */
class UnknownOptionError extends PodlineError {}

const phaseOptions = new Map<string, Set<string>>();
/** The options a phase's schema declares. */
function optionsOf(phase: string): Set<string> {
  let known = phaseOptions.get(phase);
  if (!known) {
    known = new Set(Object.keys(schemaOf(phase).properties ?? {}));
    phaseOptions.set(phase, known);
  }
  return known;
}

const camel = (name: string) => name.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());

/**
 * Options given for one phase reach the phases before it too (\`dependsOn\` forwards them, for --dryRun above all).
 * A phase ignores the options another phase takes (\`rss --since\` reaches pre-sync and check) and refuses the
 * ones no phase takes, naming them. Returns the options this phase takes, and those it ignored.
 */
export function phaseOwnOptions<O extends object>(target: PipelinePhase, options: O): { own: O; ignored: string[] } {
  const own: Record<string, unknown> = {};
  const ignored: string[] = [];
  const unknown: string[] = [];
  for (const [key, value] of Object.entries(options)) {
    const name = camel(key);
    if (key.startsWith('_') || optionsOf(target).has(name)) own[name] = value;
    else if (PIPELINE.some((phase) => optionsOf(phase).has(name))) ignored.push(name);
    else unknown.push(key);
  }
  if (unknown.length) {
    throw new UnknownOptionError(
      `${unknown.map((k) => `--${k}`).join(', ')}: no phase of the pipeline takes ${unknown.length === 1 ? 'this option' : 'these options'}. ` +
        `See the options of each phase with \`npx nx run <site>:<phase> --help\` (this is ${target}).`,
    );
  }
  return { own: own as O, ignored };
}

/**
 * Site ids used by two folders, from the site configs on disk: looked up once per batch (the sites of one
 * target run together; a walk per task would cost every task a walk of every site).
 */
function siteIdClashesOnDisk(workspaceRoot: string, shared: Map<string, unknown>): Map<string, string[]> {
  const key = `site-id-clashes:${workspaceRoot}`;
  let clashes = shared.get(key) as Map<string, string[]> | undefined;
  if (!clashes) shared.set(key, (clashes = siteIdClashes(findSiteConfigsOnDisk(workspaceRoot))));
  return clashes;
}

/** Run one site task: load config, run, write state, record the report. Never throws. */
export async function runSiteTask<O>(
  target: PipelinePhase,
  run: SiteRun<O>,
  options: O & CommonOptions,
  projectName: string,
  projectRoot: string,
  workspaceRoot: string,
  shared: Map<string, unknown>,
  batch = false,
): Promise<{ success: boolean; terminalOutput: string }> {
  const lines: string[] = [];
  const log = makeLogger(`[${projectName}:${target}]`, !!options.verbose, lines, batch);
  let ignored: string[] = [];
  let optionError: Error | undefined;
  try {
    ({ own: options, ignored } = phaseOwnOptions(target, options));
  } catch (err) {
    optionError = err as Error;
  }
  const started = Date.now();
  const record: TaskRecord = {
    site: projectName,
    target,
    success: false,
    dryRun: !!options.dryRun,
    seconds: 0,
    counts: {},
    problems: [],
  };
  try {
    if (optionError) throw optionError;
    if (ignored.length) log.debug(`ignores ${ignored.map((k) => `--${k}`).join(', ')}: ${ignored.length === 1 ? 'an option' : 'options'} of another phase`);
    const bad = optionProblems(target, options as Record<string, unknown>);
    if (bad.length) throw new OptionError(`invalid option${bad.length > 1 ? 's' : ''}: ${bad.join('; ')}`, target, projectName);
    // Two folders with one site id would share a data folder and bucket keys: neither runs.
    const clash = siteIdClashesOnDisk(workspaceRoot, shared).get(path.basename(projectRoot));
    if (clash?.includes(projectRoot.split(path.sep).join('/'))) throw new ConfigError([siteIdClashProblem(projectRoot.split(path.sep).join('/'), clash)]);
    const site = loadSiteConfig(path.join(workspaceRoot, projectRoot, 'site.config.json'));
    const paths = new SitePaths(site.id, workspaceRoot);
    if (!options.dryRun) await takeSiteLock(site.id, workspaceRoot, log);
    // Links in the data folder are never followed: the storage targets skip them (with a warning); the targets
    // that write files there (rss, transcribe, index) stop before writing anything through them.
    const links = await dataFolderSymlinks(paths.root);
    if (links.length && !WALKING_TARGETS.has(target)) throw new SymlinkError(links.join(', '));
    const outcome = await run({ workspaceRoot, projectName, target, site, paths, options, log, shared });
    if (!options.dryRun && outcome.state !== undefined) {
      await writeJsonAtomic(stateFile(workspaceRoot, site.id, target), outcome.state);
      if (outcome.products || (TARGETS_WITH_PRODUCTS as readonly string[]).includes(target)) {
        await recordProducts(paths, workspaceRoot, target, outcome.products ?? []);
      }
    }
    if (!options.dryRun) {
      for (const [name, state] of Object.entries(outcome.extraStates ?? {})) await writeJsonAtomic(stateFile(workspaceRoot, site.id, name), state);
    }
    record.counts = outcome.counts ?? {};
    record.problems = outcome.problems ?? [];
    for (const p of record.problems) {
      const where = [p.podcast && `podcast ${p.podcast}`, p.episode && `episode ${p.episode}`, p.file && `file ${p.file}`].filter(Boolean).join(', ');
      log.error(`${where ? `${where}: ` : ''}${p.message}${p.fix ? ` — ${p.fix}` : ''}`);
    }
    record.success = record.problems.length === 0;
    log.info(`${options.dryRun ? '(dry run) ' : ''}${formatCounts(outcome.counts)}${record.problems.length ? `; ${record.problems.length} failed` : ''}`);
  } catch (err) {
    const message = (err as Error)?.message ?? String(err);
    // Errors that know their fix (a full disk, a symbolic link, …) say it.
    const fix = fixOf(err) ?? localResourceProblem(err)?.fix;
    record.problems.push({ site: projectName, message, ...(fix ? { fix } : {}) });
    log.error(fix ? `${message} — ${fix}` : message);
    // Our own errors say all there is to say; anything else gets its stack in debug logs.
    if (!(err instanceof PodlineError)) log.debug((err as Error)?.stack ?? '');
  }
  record.seconds = Math.round((Date.now() - started) / 100) / 10;
  try {
    await recordTask(workspaceRoot, record);
  } catch (err) {
    log.warn(`could not write the run report: ${(err as Error).message}`);
  }
  return { success: record.success, terminalOutput: lines.join('\n') };
}

/** Build the single-task executor and the batch implementation (preferBatch) from one site run. */
export function defineSiteExecutor<O>(target: PipelinePhase, run: SiteRun<O>, defineOptions: DefineOptions = {}) {
  async function executor(options: O & CommonOptions, context: ExecutorContext): Promise<{ success: boolean }> {
    const projectName = context.projectName!;
    const projectRoot = context.projectsConfigurations!.projects[projectName].root;
    const result = await runSiteTask(target, run, options, projectName, projectRoot, context.root, new Map());
    return { success: result.success };
  }

  async function* batch(
    taskGraph: TaskGraph,
    inputs: Record<string, O & CommonOptions>,
    _overrides: O & CommonOptions,
    context: ExecutorContext,
  ): AsyncGenerator<{ task: string; result: { success: boolean; terminalOutput: string } }> {
    const shared = new Map<string, unknown>();
    const ids = Object.keys(taskGraph.tasks);
    const limit = Math.max(1, defineOptions.batchConcurrency ?? 4);
    const done: Array<{ task: string; result: { success: boolean; terminalOutput: string } }> = [];
    let wake: (() => void) | undefined;
    let finished = false;
    // config's bounded concurrency runs the sites; each result is yielded as soon as it is there.
    const all = mapLimit(ids, limit, async (id) => {
      const projectName = taskGraph.tasks[id].target.project;
      const projectRoot = context.projectsConfigurations!.projects[projectName].root;
      const result = await runSiteTask(target, run, inputs[id], projectName, projectRoot, context.root, shared, true);
      done.push({ task: id, result });
      wake?.();
    }).finally(() => {
      finished = true;
      wake?.();
    });
    while (done.length || !finished) {
      if (done.length) {
        yield done.shift()!;
        continue;
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
        // re-check in case a site finished between the test and the wait
        if (done.length || finished) resolve();
      });
      wake = undefined;
    }
    await all;
  }

  return { executor, batch };
}
