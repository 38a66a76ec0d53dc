/**
 * `nx run tools:schedule`: print, install or remove the scheduled `nx run-many -t index` of this checkout,
 * as a crontab entry (default) or systemd user units (--systemd).
 */
import * as path from 'node:path';
import { findWorkspaceRoot } from '@podline/config';
import { UsageError, parseArgs } from './args';
import {
  INTERVALS,
  cronEntry,
  defaultSpec,
  launchctlInstallCommands,
  launchctlUninstallCommands,
  launchdPlist,
  parseInterval,
  systemctlInstallCommands,
  systemctlUninstallCommands,
  systemdFilesToRemove,
  systemdUnits,
  type ScheduleFile,
  type ScheduleSpec,
} from './schedule-core';
import {
  Crontab,
  ScheduleError,
  defaultAgentDir,
  defaultUnitDir,
  flockAvailable,
  installCron,
  removeFiles,
  uninstallCron,
  writeFiles,
} from './schedule-install';

/** A scheduler driven by files in a folder (systemd units, a launchd agent). */
interface FileScheduler {
  defaultDir: string;
  files: ScheduleFile[];
  removeOnUninstall: string[];
  installCommands: (dir: string) => string[];
  uninstallCommands: string[];
}

function systemdScheduler(spec: ScheduleSpec, env: NodeJS.ProcessEnv): FileScheduler {
  const units = systemdUnits(spec);
  return {
    defaultDir: defaultUnitDir(env),
    files: [units.service, units.timer],
    removeOnUninstall: systemdFilesToRemove(spec),
    installCommands: () => systemctlInstallCommands(spec),
    uninstallCommands: systemctlUninstallCommands(spec),
  };
}

function launchdScheduler(spec: ScheduleSpec): FileScheduler {
  const plist = launchdPlist(spec);
  return {
    defaultDir: defaultAgentDir(),
    files: [plist],
    removeOnUninstall: [plist.file],
    installCommands: (dir) => launchctlInstallCommands(spec, dir),
    uninstallCommands: launchctlUninstallCommands(spec),
  };
}

export const SCHEDULE_HELP = `Usage: npx nx run tools:schedule [options]

Prints (or installs/removes) the scheduled run of this checkout: every interval, from the workspace root,
  npx nx run-many -t index   (with NX_DAEMON=false), appended to a log file, wrapped in flock -n.

Options:
  --every=<interval>   ${Object.keys(INTERVALS).join(' | ')} (default 1h)
  --install            install it: a crontab entry, or with --systemd/--launchd the unit/agent files
  --uninstall          remove this checkout's crontab entry (or units); every other crontab line is kept
  --systemd            systemd user timer + service instead of cron
  --launchd            a launchd user agent (macOS) instead of cron
  --unit-dir=<dir>     where the units/agent go (default: systemd $XDG_CONFIG_HOME/systemd/user or
                       ~/.config/systemd/user; launchd ~/Library/LaunchAgents)
  --crontab-cmd=<cmd>  the crontab command (default $PODLINE_CRONTAB_CMD or crontab)
  --name=<name>        names the entry/units (default: the checkout's folder name)
  --log-file=<file>    default <data root>/.reports/cron.log
  --lock-file=<file>   default <data root>/.locks/_schedule.lock
  --no-flock           do not wrap the run in flock (it is left out anyway when flock is not installed)
  --dry-run            say what would change; change nothing
  --help               this text
`;

export interface ScheduleIo {
  out: (line: string) => void;
  err: (line: string) => void;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Injectable for tests; default: look for flock on PATH. */
  hasFlock?: () => boolean;
}

export async function scheduleMain(argv: string[], io: ScheduleIo): Promise<number> {
  try {
    const args = parseArgs(argv, {
      flags: ['install', 'uninstall', 'systemd', 'launchd', 'dryRun', 'flock', 'help'],
      values: ['every', 'unitDir', 'crontabCmd', 'name', 'logFile', 'lockFile'],
    });
    if (args.help) {
      io.out(SCHEDULE_HELP);
      return 0;
    }
    if (args.install && args.uninstall) throw new UsageError('--install and --uninstall cannot be used together');
    if (args.systemd && args.launchd) throw new UsageError('--systemd and --launchd cannot be used together');
    const workspaceRoot = findWorkspaceRoot(io.cwd);
    const wantFlock = args.flock !== false;
    const useFlock = wantFlock && (io.hasFlock ?? flockAvailable)();
    const spec = defaultSpec(workspaceRoot, parseInterval(String(args.every ?? '1h')), {
      name: args.name as string | undefined,
      logFile: args.logFile as string | undefined,
      lockFile: args.lockFile as string | undefined,
      useFlock,
      // cron's PATH rarely includes node: put this node's folder first.
      pathEnv: [path.dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin'].join(':'),
      env: io.env,
    });
    const dryRun = !!args.dryRun;
    if (wantFlock && !useFlock) io.err('note: flock is not installed here; the entry runs without it (the per-site locks still apply)');

    if (args.systemd || args.launchd) {
      const scheduler = args.systemd ? systemdScheduler(spec, io.env) : launchdScheduler(spec);
      const dir = path.resolve(io.cwd, (args.unitDir as string | undefined) ?? scheduler.defaultDir);
      if (args.uninstall) {
        const change = await removeFiles(dir, scheduler.removeOnUninstall, dryRun);
        change.messages.forEach(io.out);
        if (change.changed) io.out(`${dryRun ? 'then' : 'now'} run:\n  ${scheduler.uninstallCommands.join('\n  ')}`);
        return 0;
      }
      if (!args.install || dryRun) {
        for (const f of scheduler.files) io.out(`# ${path.join(dir, f.file)}\n${f.text}`);
      }
      if (!args.install) {
        io.out(`Install with --install --${args.systemd ? 'systemd' : 'launchd'}, then run:\n  ${scheduler.installCommands(dir).join('\n  ')}`);
        return 0;
      }
      const change = await writeFiles(dir, scheduler.files, dryRun);
      change.messages.forEach(io.out);
      io.out(`${dryRun ? 'after installing, run' : 'now run'}:\n  ${scheduler.installCommands(dir).join('\n  ')}`);
      return 0;
    }

    const crontab = new Crontab((args.crontabCmd as string | undefined) ?? (io.env.PODLINE_CRONTAB_CMD || 'crontab'));
    if (args.uninstall) {
      uninstallCron(crontab, spec, dryRun).messages.forEach(io.out);
      return 0;
    }
    if (!args.install || dryRun) io.out(cronEntry(spec).join('\n'));
    if (!args.install) {
      io.out(`\nInstall with --install (or add the lines above with crontab -e). Log: ${spec.logFile}`);
      return 0;
    }
    installCron(crontab, spec, dryRun).messages.forEach(io.out);
    io.out(`log: ${spec.logFile}`);
    return 0;
  } catch (err) {
    if (err instanceof UsageError || err instanceof ScheduleError) {
      io.err(`schedule: ${err.message}`);
      if (err instanceof UsageError) io.err('Run with --help to see every option.');
      return err instanceof UsageError ? 2 : 1;
    }
    throw err;
  }
}

/** The entry point `node tools/scripts/run-ts.js tools/src/schedule.ts` calls. */
export const main = scheduleMain;
