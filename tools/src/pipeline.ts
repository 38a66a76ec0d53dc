/**
 * `nx run tools:pipeline`: run the site pipeline for chosen sites and phases, asking (--interactive) or
 * from flags, always showing the equivalent plain `nx` command(s). See pipeline-plan.ts for how the
 * choices become nx commands.
 */
import { spawn } from 'node:child_process';
import { CONFLICT_MODES, DEFAULT_CONFLICT, SITE_FOLDERS, findWorkspaceRoot, type ConflictMode, type SiteFolder } from '@podline/config';
import { UsageError, camelCase, parseArgs, shellJoin } from './args';
import {
  PHASES,
  parseConflict,
  parseFolders,
  parsePhase,
  phasesAccepting,
  phasesBetween,
  planCommands,
  type Capabilities,
  type NxCommand,
  type Phase,
  type PipelineChoice,
} from './pipeline-plan';
import { listSites, readCapabilities, readTargetPrefix, type SiteEntry } from './pipeline-workspace';

export const PIPELINE_HELP = `Usage: npx nx run tools:pipeline [options]
       node tools/scripts/run-ts.js tools/src/pipeline.ts [options]

Runs the site pipeline (${PHASES.join(' -> ')}) through nx and prints the equivalent nx command.

  --interactive        ask for everything below (needs a terminal)
  --sites=<a,b>        sites (Nx projects) to run; default: every site         (nx: --projects=a,b)
  --phase=<phase>      run up to this phase (default index); the phases before it run first
                       (also --target=<phase>, but nx run keeps --target for itself: through nx use --phase)
  --from=<phase>       start at this phase instead of pre-sync                  (nx: --exclude-task-dependencies)
  --only               run that phase alone (same as --from=<phase>)
  --skip-<phase>       leave out a phase at the start or the end of the chain (e.g. --skip-pre-sync --skip-index)
  --dry-run            every phase says what it would do and changes nothing    (nx: --dryRun to every phase)
  --conflict=<mode>    ${CONFLICT_MODES.join(' | ')} (phases that sync)
  --folders=<a,b>      only these folders: ${SITE_FOLDERS.join(', ')} (phases that sync)
  --verbose, --debug   debug logging (LOG_LEVEL=debug); through nx use --debug, as nx keeps --verbose for itself
  --print-only         print the nx command(s), do not run them
  --help               this text; a phase's own options: npx nx run <site>:<phase> --help

Exit code: the nx command's (non-zero when any task failed; the other sites still ran).
`;

/** Asks one enquirer question (the object enquirer.prompt takes) and returns its answer. */
export type Ask = (question: Record<string, unknown>) => Promise<unknown>;

export interface PipelineIo {
  out: (line: string) => void;
  err: (line: string) => void;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Whether stdin and stdout are terminals (required by --interactive). */
  isTTY?: boolean;
  /** Injectable for tests: answers the interactive questions. Default: enquirer on the terminal. */
  ask?: Ask;
}

/** Something with enquirer's prompt(): an Enquirer instance (tests give one with their own streams). */
export interface PromptRunner {
  prompt(question: never): Promise<unknown>;
}

/** Ask through enquirer. */
export function askWith(runner: PromptRunner): Ask {
  return async (question) => {
    const answers = (await runner.prompt(question as never)) as Record<string, unknown>;
    return answers[question.name as string];
  };
}

/** enquirer on the real terminal. */
const terminalAsk: Ask = async (question) => {
  const Enquirer = (await import('enquirer')).default;
  return askWith(new Enquirer())(question);
};

/** The shell form of the commands, for the user to copy. */
export function formatCommands(commands: NxCommand[]): string {
  return commands
    .map((c) => [...Object.entries(c.env).map(([k, v]) => `${k}=${v}`), 'npx', ...c.argv])
    .map((words) => shellJoin(words))
    .join(' && \\\n  ');
}

/** Run the commands one after the other with the terminal attached; stop at the first that fails. */
export async function runCommands(commands: NxCommand[], io: Pick<PipelineIo, 'env' | 'cwd'>, root: string): Promise<number> {
  for (const command of commands) {
    const code = await new Promise<number>((resolve) => {
      const child = spawn('npx', command.argv, { cwd: root, env: { ...io.env, ...command.env }, stdio: 'inherit' });
      child.on('error', () => resolve(127));
      child.on('exit', (status, signal) => resolve(status ?? (signal ? 128 : 1)));
    });
    if (code !== 0) return code;
  }
  return 0;
}

interface Context {
  root: string;
  sites: SiteEntry[];
  caps: Capabilities;
  prefix: string;
}

function checkSites(requested: string[], ctx: Context): string[] {
  const known = new Set(ctx.sites.map((s) => s.id));
  const unknown = requested.filter((s) => !known.has(s));
  if (unknown.length) {
    throw new UsageError(`unknown site ${unknown.join(', ')}; the sites are: ${ctx.sites.map((s) => s.id).join(', ') || '(none under sites/)'}`);
  }
  return [...new Set(requested)];
}

/** --skip-pre-sync -> skipPreSync, as parseArgs names it. */
const skipFlag = (phase: Phase) => camelCase(`skip-${phase}`);

/** The choice given by flags. */
export function choiceFromArgs(args: Record<string, string | boolean>, ctx: Context): PipelineChoice {
  let to = parsePhase(String(args.phase ?? 'index'), 'phase');
  let from: Phase = args.from !== undefined ? parsePhase(String(args.from), 'from') : args.only ? to : 'pre-sync';
  // --skip-<phase>: trims the chain at either end; a phase in the middle cannot be left out (the next needs its result).
  const skipped = PHASES.filter((p) => args[skipFlag(p)]);
  if (skipped.length) {
    let chain = phasesBetween(from, to);
    while (chain.length && skipped.includes(chain[0])) chain = chain.slice(1);
    while (chain.length && skipped.includes(chain[chain.length - 1])) chain = chain.slice(0, -1);
    const middle = skipped.filter((p) => chain.includes(p));
    if (!chain.length) throw new UsageError('every phase is skipped: nothing to run');
    if (middle.length) throw new UsageError(`--skip-${middle[0]}: only phases at the start or end of the chain can be skipped (${chain.join(' -> ')})`);
    from = chain[0];
    to = chain[chain.length - 1];
  }
  return {
    sites: args.sites ? checkSites(String(args.sites).split(',').map((s) => s.trim()).filter(Boolean), ctx) : [],
    from,
    to,
    dryRun: !!args.dryRun,
    verbose: !!args.verbose,
    conflict: args.conflict !== undefined ? parseConflict(String(args.conflict)) : undefined,
    folders: args.folders !== undefined ? parseFolders(String(args.folders)) : [],
  };
}

/** The interactive questions; every answer goes through `ask`. */
export async function askChoice(ask: Ask, ctx: Context): Promise<PipelineChoice> {
  if (!ctx.sites.length) throw new UsageError('there are no sites (sites/<id>/site.config.json) to run');
  const picked = (await ask({
    type: 'multiselect',
    name: 'sites',
    message: 'Which sites? (space selects, enter confirms)',
    choices: ctx.sites.map((s) => ({ name: s.id, hint: s.problems ? `${s.title} — config has problems` : s.title })),
    validate: (value: string[]) => (value.length ? true : 'select at least one site'),
  })) as string[];
  const to = (await ask({
    type: 'select',
    name: 'phase',
    message: 'Which phase?',
    choices: PHASES.map((p) => ({ name: p })),
    initial: PHASES.length - 1,
  })) as Phase;
  let from: Phase = 'pre-sync';
  if (to !== 'pre-sync') {
    const scope = (await ask({
      type: 'select',
      name: 'scope',
      message: `Run the phases before ${to}?`,
      choices: [
        { name: 'chain', message: `yes: ${phasesBetween('pre-sync', to).join(' -> ')}` },
        { name: 'only', message: `no: ${to} only` },
      ],
    })) as string;
    if (scope === 'only') from = to;
  }
  const dryRun = (await ask({ type: 'confirm', name: 'dryRun', message: 'Dry run (say what would be done, change nothing)?', initial: false })) as boolean;
  const phases = phasesBetween(from, to);
  let conflict: ConflictMode | undefined;
  if (phasesAccepting(ctx.caps, 'conflict', phases).length) {
    conflict = (await ask({
      type: 'select',
      name: 'conflict',
      message: `Conflict mode (${phasesAccepting(ctx.caps, 'conflict', phases).join(', ')}): when a file is on both sides`,
      choices: CONFLICT_MODES.map((m) => ({ name: m, hint: m === DEFAULT_CONFLICT ? '(default)' : undefined })),
      initial: CONFLICT_MODES.indexOf(DEFAULT_CONFLICT),
    })) as ConflictMode;
    // The executors' default needs no flag: keep the command short.
    if (conflict === DEFAULT_CONFLICT) conflict = undefined;
  }
  let folders: SiteFolder[] = [];
  if (phasesAccepting(ctx.caps, 'folders', phases).length) {
    const chosen = (await ask({
      type: 'multiselect',
      name: 'folders',
      message: `Folders to sync (${phasesAccepting(ctx.caps, 'folders', phases).join(', ')})`,
      choices: SITE_FOLDERS.map((f) => ({ name: f })),
      initial: [...SITE_FOLDERS],
      validate: (value: string[]) => (value.length ? true : 'select at least one folder'),
    })) as SiteFolder[];
    // Every folder selected is the default: keep the command short.
    folders = chosen.length === SITE_FOLDERS.length ? [] : SITE_FOLDERS.filter((f) => chosen.includes(f));
  }
  return {
    sites: picked.length === ctx.sites.length ? [] : ctx.sites.map((s) => s.id).filter((id) => picked.includes(id)),
    from,
    to,
    dryRun,
    verbose: false,
    conflict,
    folders,
  };
}

class Cancelled extends Error {}

/** enquirer rejects with a non-Error (an empty string) when the user cancels (Ctrl+C, Esc). */
function cancellable(ask: Ask): Ask {
  return async (question) => {
    try {
      return await ask(question);
    } catch (err) {
      if (err instanceof Error) throw err;
      throw new Cancelled();
    }
  };
}

const NON_TTY_MESSAGE = `--interactive needs a terminal, and this run has none (CI, cron, a pipe).
Give the choices as flags instead, for example:
  npx nx run tools:pipeline --sites=<a,b> --phase=index --dry-run --conflict=skip-existing --folders=rss,audio
or run nx directly: npx nx run-many -t index --projects=<a,b>
(--print-only shows the nx command without running it; --help lists every flag.)`;

export async function pipelineMain(argv: string[], io: PipelineIo): Promise<number> {
  try {
    const args = parseArgs(argv, {
      flags: ['interactive', 'only', 'dryRun', 'verbose', 'debug', 'printOnly', 'help', ...PHASES.map(skipFlag)],
      values: ['sites', 'projects', 'phase', 'target', 'from', 'conflict', 'folders'],
    });
    // Aliases: --target (nx run keeps it for itself) for --phase, --projects for --sites, --debug for --verbose.
    if (args.target !== undefined) {
      if (args.phase !== undefined && args.phase !== args.target) throw new UsageError('--target and --phase say different things: give one');
      args.phase = args.target;
      delete args.target;
    }
    if (args.debug !== undefined) args.verbose = args.verbose || args.debug;
    delete args.debug;
    if (args.projects !== undefined) args.sites = args.sites ? `${args.sites},${args.projects}` : args.projects;
    if (args.help) {
      io.out(PIPELINE_HELP);
      return 0;
    }
    if (args.interactive && !io.ask && !io.isTTY) {
      io.err(NON_TTY_MESSAGE);
      return 2;
    }
    const root = findWorkspaceRoot(io.cwd);
    const ctx: Context = { root, sites: listSites(root), caps: readCapabilities(root), prefix: readTargetPrefix(root) };
    let choice: PipelineChoice;
    const ask = cancellable(io.ask ?? terminalAsk);
    if (args.interactive) {
      const given = Object.keys(args).filter((k) => !['interactive', 'printOnly'].includes(k));
      if (given.length) throw new UsageError(`--interactive asks for everything; leave out --${given.join(', --')}`);
      choice = await askChoice(ask, ctx);
    } else {
      choice = choiceFromArgs(args, ctx);
    }
    const commands = planCommands(choice, ctx.caps, ctx.prefix);
    io.out(`The nx command${commands.length > 1 ? 's' : ''}:\n  ${formatCommands(commands)}`);
    if (args.printOnly) return 0;
    if (args.interactive) {
      const go = await ask({ type: 'confirm', name: 'run', message: 'Run it?', initial: true });
      if (!go) {
        io.out('Not run.');
        return 0;
      }
    }
    return await runCommands(commands, io, root);
  } catch (err) {
    if (err instanceof Cancelled) {
      io.err('Cancelled; nothing was run.');
      return 130;
    }
    if (err instanceof UsageError) {
      io.err(`pipeline: ${err.message}`);
      io.err('Run with --help to see every option.');
      return 2;
    }
    throw err;
  }
}

/** The entry point `node tools/scripts/run-ts.js tools/src/pipeline.ts` calls. */
export const main = pipelineMain;
