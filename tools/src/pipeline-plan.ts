/**
 * The choices of a pipeline run (sites, phases, dry run, conflict mode, folders) and the `nx` command(s)
 * that carry them out. Pure: the executors' accepted options come in as `Capabilities`.
 *
 * How Nx passes options (checked against Nx 23):
 * - Options after `nx run-many -t a b …` reach the tasks of the targets named with -t only. Dependencies
 *   pulled in by `dependsOn` get NONE of them (a plain dependsOn does not forward params). So
 *   `nx run-many -t index --dryRun` would dry-run index and really run the five phases before it. A run
 *   with options therefore names every phase it runs: `-t pre-sync check rss transcribe upload index --dryRun`.
 * - An executor whose schema has additionalProperties:false fails the task on an option it does not know.
 *   So the phases are split into consecutive groups that accept the same options, one `nx run-many` each;
 *   groups after the first run with --exclude-task-dependencies (their dependencies just ran).
 * - `--verbose` is Nx's own flag (it is not forwarded to tasks): verbose logging goes through LOG_LEVEL=debug.
 * - A task run without its dependencies, or in dry run, uses --skip-nx-cache: without the dependencies'
 *   state files its cache key would be wrong, and a dry run must neither restore nor store cached outputs.
 */
import { CONFLICT_MODES, SITE_FOLDERS, isConflictMode, type ConflictMode, type SiteFolder } from '@podline/config';
import { PIPELINE } from '@podline/ingest';
import { UsageError } from './args';

/** The pipeline's phases, in order: the ingest plugin's own list. */
export const PHASES = PIPELINE;
export type Phase = (typeof PHASES)[number];

export interface PipelineChoice {
  /** Project names; empty: every site. */
  sites: string[];
  /** The first and last phase run; from === to runs one phase alone. */
  from: Phase;
  to: Phase;
  dryRun: boolean;
  verbose: boolean;
  conflict?: ConflictMode;
  /** Empty: every folder. */
  folders: SiteFolder[];
}

/** Per phase: the option names its executor accepts, or 'any' when its schema allows additional properties. */
export type Capabilities = Record<Phase, ReadonlySet<string> | 'any'>;

/** One `nx` invocation: environment additions and the arguments after `npx`. */
export interface NxCommand {
  env: Record<string, string>;
  argv: string[];
}

export function phasesBetween(from: Phase, to: Phase): Phase[] {
  const a = PHASES.indexOf(from);
  const b = PHASES.indexOf(to);
  if (a > b) throw new UsageError(`--from=${from} comes after --phase=${to}: the phases run in the order ${PHASES.join(' -> ')}`);
  return PHASES.slice(a, b + 1);
}

/** The options a choice passes to tasks, by executor option name. */
function taskOptions(choice: PipelineChoice): Array<{ name: string; arg: string; mustReachEvery: boolean }> {
  const opts: Array<{ name: string; arg: string; mustReachEvery: boolean }> = [];
  // A phase that cannot dry-run must not run at all in a dry run: dryRun must reach every task.
  if (choice.dryRun) opts.push({ name: 'dryRun', arg: '--dryRun', mustReachEvery: true });
  if (choice.conflict) opts.push({ name: 'conflict', arg: `--conflict=${choice.conflict}`, mustReachEvery: false });
  if (choice.folders.length) opts.push({ name: 'folders', arg: `--folders=${choice.folders.join(',')}`, mustReachEvery: false });
  return opts;
}

function accepts(caps: Capabilities, phase: Phase, option: string): boolean {
  const c = caps[phase];
  return c === 'any' || c.has(option);
}

/** Which phases take an option (for messages and for the interactive questions). */
export function phasesAccepting(caps: Capabilities, option: string, phases: readonly Phase[] = PHASES): Phase[] {
  return phases.filter((p) => accepts(caps, p, option));
}

/** The nx command(s) for a choice. `targetPrefix` is the ingest plugin's target name prefix (nx.json). */
export function planCommands(choice: PipelineChoice, caps: Capabilities, targetPrefix = ''): NxCommand[] {
  const phases = phasesBetween(choice.from, choice.to);
  const opts = taskOptions(choice);
  for (const opt of opts) {
    const taking = phasesAccepting(caps, opt.name, phases);
    if (opt.mustReachEvery && taking.length !== phases.length) {
      const refusing = phases.filter((p) => !taking.includes(p));
      throw new UsageError(`--${opt.name} is not accepted by ${refusing.join(', ')} (see its schema.json), so these phases cannot run in a dry run; leave them out with --from/--target`);
    }
    if (!taking.length) {
      throw new UsageError(
        `--${opt.name} applies to ${phasesAccepting(caps, opt.name).join(', ') || 'no phase of this workspace'}; the phases selected (${phases.join(', ')}) take none of it. Select those phases, or leave out --${opt.name}`,
      );
    }
  }

  // Consecutive phases that accept the same options share one nx run-many.
  const groups: Array<{ phases: Phase[]; args: string[] }> = [];
  for (const phase of phases) {
    const args = opts.filter((o) => accepts(caps, phase, o.name)).map((o) => o.arg);
    const last = groups[groups.length - 1];
    if (last && last.args.join(' ') === args.join(' ')) last.phases.push(phase);
    else groups.push({ phases: [phase], args });
  }

  const env: Record<string, string> = choice.verbose ? { LOG_LEVEL: 'debug' } : {};
  const projects = choice.sites.length ? [`--projects=${choice.sites.join(',')}`] : [];
  return groups.map((group, i) => {
    const withDeps = i === 0 && group.phases[0] === 'pre-sync';
    // With nothing to pass, naming the last phase is enough: Nx runs the ones before it.
    const targets = withDeps && !group.args.length ? [group.phases[group.phases.length - 1]] : group.phases;
    const argv = ['nx', 'run-many', '-t', ...targets.map((t) => targetPrefix + t), ...projects];
    if (!withDeps) argv.push('--exclude-task-dependencies');
    if (!withDeps || choice.dryRun) argv.push('--skip-nx-cache');
    argv.push(...group.args);
    return { env, argv };
  });
}

export function parseConflict(value: string): ConflictMode {
  if (isConflictMode(value)) return value;
  throw new UsageError(`--conflict=${value} is not a conflict mode: use ${CONFLICT_MODES.join(', ')}`);
}

export function parseFolders(value: string): SiteFolder[] {
  const folders = value.split(',').map((f) => f.trim()).filter(Boolean);
  const bad = folders.filter((f) => !(SITE_FOLDERS as readonly string[]).includes(f));
  if (bad.length) throw new UsageError(`--folders: unknown folder ${bad.join(', ')}; the folders are ${SITE_FOLDERS.join(', ')}`);
  return [...new Set(folders)] as SiteFolder[];
}

export function parsePhase(value: string, flag: string): Phase {
  if ((PHASES as readonly string[]).includes(value)) return value as Phase;
  throw new UsageError(`--${flag}=${value} is not a phase: use ${PHASES.join(', ')}`);
}
