/**
 * What a scheduled Podline run is: the interval, the command it runs, and how it is written as a
 * crontab entry or a pair of systemd user units. Pure text building, no side effects (see
 * schedule-install.ts for the parts that touch the crontab and the unit folder).
 */
import * as path from 'node:path';
import { lockFile, reportsDir } from '@podline/config';
import { UsageError, shellJoin, shellQuote } from './args';

/** The intervals a schedule may have, as cron expressions and systemd OnCalendar specs. */
export const INTERVALS = {
  '15m': { cron: '*/15 * * * *', onCalendar: '*:0/15', seconds: 900 },
  '1h': { cron: '0 * * * *', onCalendar: 'hourly', seconds: 3600 },
  '6h': { cron: '0 */6 * * *', onCalendar: '0/6:00', seconds: 21600 },
  '1d': { cron: '0 0 * * *', onCalendar: 'daily', seconds: 86400 },
} as const;
export type Interval = keyof typeof INTERVALS;

export function parseInterval(every: string): Interval {
  if (Object.prototype.hasOwnProperty.call(INTERVALS, every)) return every as Interval;
  throw new UsageError(
    `--every=${every} is not a supported interval. Use one of: ${Object.keys(INTERVALS).join(', ')} (e.g. --every=1h)`,
  );
}

export function cronExpression(every: Interval): string {
  return INTERVALS[every].cron;
}

/** Everything the scheduled job needs to know about this checkout. */
export interface ScheduleSpec {
  workspaceRoot: string;
  every: Interval;
  /** Identifies this checkout's entry: the unit name suffix and the crontab marker. */
  name: string;
  /** Appended to by every run. */
  logFile: string;
  /** Held with `flock -n` for the whole run, so a slow run is never overlapped by the next. */
  lockFile: string;
  /** Wrap the run in flock (when the flock tool exists). */
  useFlock: boolean;
  /** PATH for the job: cron's default PATH rarely has node/npx. */
  pathEnv: string;
  /** Podline's own environment (PODLINE_DATA_DIR, PODLINE_MODELS_DIR) as set when installing, so the job sees the same data. */
  extraEnv: Record<string, string>;
}

/** Environment variables that change where Podline's data lives: carried into the scheduled job when set. */
export const CARRIED_ENV = ['PODLINE_DATA_DIR', 'PODLINE_MODELS_DIR'] as const;

/** A unit/marker-safe name from the checkout's folder name: "Podline Prod" -> "podline-prod". */
export function defaultName(workspaceRoot: string): string {
  const base = path
    .basename(workspaceRoot)
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return base || 'workspace';
}

export function validateName(name: string): string {
  if (!/^[a-z0-9][a-z0-9_-]*$/.test(name)) {
    throw new UsageError(`--name=${name} is not usable in a unit name: use lower-case letters, digits, "-" and "_"`);
  }
  return name;
}

/** Defaults: the log in the reports folder, the lock next to the per-site locks (no site id can start with "_"). */
export function defaultSpec(
  workspaceRoot: string,
  every: Interval,
  opts: { name?: string; logFile?: string; lockFile?: string; useFlock: boolean; pathEnv: string; env?: NodeJS.ProcessEnv },
): ScheduleSpec {
  const env = opts.env ?? process.env;
  return {
    workspaceRoot,
    every,
    name: validateName(opts.name ?? defaultName(workspaceRoot)),
    logFile: path.resolve(workspaceRoot, opts.logFile ?? path.join(reportsDir(workspaceRoot, env), 'cron.log')),
    lockFile: path.resolve(workspaceRoot, opts.lockFile ?? lockFile(workspaceRoot, '_schedule', env)),
    useFlock: opts.useFlock,
    pathEnv: [...new Set(opts.pathEnv.split(':').filter(Boolean))].join(':'),
    extraEnv: Object.fromEntries(
      CARRIED_ENV.filter((k) => env[k]).map((k) => [k, path.resolve(workspaceRoot, env[k] as string)]),
    ),
  };
}

/** The pipeline a scheduled run starts. */
export const RUN_ARGV = ['npx', 'nx', 'run-many', '-t', 'index'];

/**
 * The shell command of one scheduled run, from any current directory:
 *   cd <root> && mkdir -p <log dir> <lock dir> && flock -n <lock> env NX_DAEMON=false PATH=… npx nx run-many -t index >> <log> 2>&1
 * `flock -n` exits at once (status 1) when the previous run still holds the lock; the per-site locks
 * of the pipeline protect against runs started any other way.
 */
export function runCommand(spec: ScheduleSpec): string {
  const dirs = [...new Set([path.dirname(spec.logFile), path.dirname(spec.lockFile)])];
  const run = [
    ...(spec.useFlock ? ['flock', '-n', spec.lockFile] : []),
    'env',
    'NX_DAEMON=false',
    `PATH=${spec.pathEnv}`,
    ...Object.entries(spec.extraEnv).map(([k, v]) => `${k}=${v}`),
    ...RUN_ARGV,
  ];
  return [
    `cd ${shellQuote(spec.workspaceRoot)}`,
    `mkdir -p ${shellJoin(dirs)}`,
    `${shellJoin(run)} >> ${shellQuote(spec.logFile)} 2>&1`,
  ].join(' && ');
}

/** The comment line that marks this checkout's entry in a crontab (the entry is the line after it). */
export function cronMarker(spec: Pick<ScheduleSpec, 'name' | 'workspaceRoot'>): string {
  return `# podline schedule ${spec.name} (${spec.workspaceRoot}) - managed by nx run tools:schedule, remove with --uninstall`;
}

/** In a crontab line an unescaped "%" is a newline: escape them. */
export function cronEscape(command: string): string {
  return command.replace(/%/g, '\\%');
}

export function cronEntry(spec: ScheduleSpec): string[] {
  return [cronMarker(spec), `${cronExpression(spec.every)} ${cronEscape(runCommand(spec))}`];
}

/** Remove this checkout's entries (marker line + the line after it); every other line is kept as is. */
export function removeCronEntry(crontab: string, spec: Pick<ScheduleSpec, 'name' | 'workspaceRoot'>): string {
  const marker = cronMarker(spec);
  const lines = splitLines(crontab);
  const kept: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] === marker) {
      i++; // drop the entry line too
      continue;
    }
    kept.push(lines[i]);
  }
  return joinLines(kept);
}

/** This checkout's entry, added once: installing twice leaves one (updated) entry. */
export function addCronEntry(crontab: string, spec: ScheduleSpec): string {
  const kept = splitLines(removeCronEntry(crontab, spec));
  return joinLines([...kept, ...cronEntry(spec)]);
}

function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** crontab requires a final newline. */
function joinLines(lines: string[]): string {
  return lines.length ? lines.join('\n') + '\n' : '';
}

// ---- systemd ----

export function unitName(spec: Pick<ScheduleSpec, 'name'>): string {
  return `podline-${spec.name}`;
}

/** systemd expands "%" specifiers and "$" variables in Exec lines: escape both, then quote for its parser. */
function systemdQuote(command: string): string {
  const escaped = command.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/%/g, '%%').replace(/\$/g, '$$$$');
  return `"${escaped}"`;
}

/** A file a scheduler reads (unit, plist), by name inside its folder. */
export interface ScheduleFile {
  file: string;
  text: string;
}

export interface UnitFiles {
  service: ScheduleFile;
  timer: ScheduleFile;
}

export function systemdUnits(spec: ScheduleSpec): UnitFiles {
  const name = unitName(spec);
  const service = [
    '[Unit]',
    `Description=Podline pipeline (nx run-many -t index) for ${spec.workspaceRoot}`,
    '',
    '[Service]',
    'Type=oneshot',
    `ExecStart=/bin/sh -c ${systemdQuote(runCommand(spec))}`,
    '',
  ].join('\n');
  const timer = [
    '[Unit]',
    `Description=Run ${name}.service every ${spec.every}`,
    '',
    '[Timer]',
    `OnCalendar=${INTERVALS[spec.every].onCalendar}`,
    // A run missed while the machine was off starts at the next boot.
    'Persistent=true',
    `Unit=${name}.service`,
    '',
    '[Install]',
    'WantedBy=timers.target',
    '',
  ].join('\n');
  return { service: { file: `${name}.service`, text: service }, timer: { file: `${name}.timer`, text: timer } };
}

export function systemctlInstallCommands(spec: Pick<ScheduleSpec, 'name'>): string[] {
  return ['systemctl --user daemon-reload', `systemctl --user enable --now ${unitName(spec)}.timer`, `systemctl --user list-timers ${unitName(spec)}.timer`];
}

export function systemctlUninstallCommands(spec: Pick<ScheduleSpec, 'name'>): string[] {
  return [`systemctl --user stop ${unitName(spec)}.timer`, 'systemctl --user daemon-reload'];
}

/** The files `systemctl --user enable` and the units leave in the unit folder. */
export function systemdFilesToRemove(spec: Pick<ScheduleSpec, 'name'>): string[] {
  const name = unitName(spec);
  return [`${name}.service`, `${name}.timer`, `timers.target.wants/${name}.timer`];
}

// ---- launchd (macOS) ----

export function launchdLabel(spec: Pick<ScheduleSpec, 'name'>): string {
  return `org.podline.${spec.name}`;
}

function xmlEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/**
 * A user agent started every interval. launchd never starts a job again while it is still running,
 * and flock is usually absent on macOS: the per-site locks cover runs started by hand.
 */
export function launchdPlist(spec: ScheduleSpec): ScheduleFile {
  const label = launchdLabel(spec);
  const text = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    '<plist version="1.0">',
    '<dict>',
    `  <key>Label</key><string>${xmlEscape(label)}</string>`,
    '  <key>ProgramArguments</key>',
    '  <array>',
    '    <string>/bin/sh</string>',
    '    <string>-c</string>',
    `    <string>${xmlEscape(runCommand(spec))}</string>`,
    '  </array>',
    `  <key>StartInterval</key><integer>${INTERVALS[spec.every].seconds}</integer>`,
    '</dict>',
    '</plist>',
    '',
  ].join('\n');
  return { file: `${label}.plist`, text };
}

export function launchctlInstallCommands(spec: Pick<ScheduleSpec, 'name'>, agentDir: string): string[] {
  return [`launchctl bootstrap gui/$(id -u) ${shellQuote(`${agentDir}/${launchdLabel(spec)}.plist`)}`];
}

export function launchctlUninstallCommands(spec: Pick<ScheduleSpec, 'name'>): string[] {
  return [`launchctl bootout gui/$(id -u)/${launchdLabel(spec)}`];
}
