/**
 * The side effects of scheduling: reading/writing the user's crontab through the crontab command
 * (injectable: $PODLINE_CRONTAB_CMD or --crontab-cmd, so tests use a fake that stores a temp file),
 * and writing/removing the systemd user units (folder injectable with --unit-dir).
 */
import { spawnSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ifExists, writeFileAtomic } from '@podline/config';
import { addCronEntry, removeCronEntry, type ScheduleFile, type ScheduleSpec } from './schedule-core';

export class ScheduleError extends Error {}

/** Runs `<cmd> -l` / `<cmd> -`; the command may have arguments ("node fake-crontab.js"), so it goes through sh. */
export class Crontab {
  constructor(readonly command: string) {}

  read(): string {
    const res = spawnSync('/bin/sh', ['-c', `${this.command} -l`], { encoding: 'utf8' });
    if (res.error) throw new ScheduleError(`could not run "${this.command} -l": ${res.error.message}`);
    if (res.status === 0) return res.stdout;
    // "no crontab for <user>" is an empty crontab, not an error.
    if (/no crontab/i.test(res.stderr)) return '';
    if (res.status === 127) {
      throw new ScheduleError(
        `"${this.command}" was not found. Install cron (e.g. the cron package), or use --systemd for a systemd user timer`,
      );
    }
    throw new ScheduleError(`"${this.command} -l" failed (exit ${res.status}): ${res.stderr.trim()}`);
  }

  write(text: string): void {
    const res = spawnSync('/bin/sh', ['-c', `${this.command} -`], { input: text, encoding: 'utf8' });
    if (res.error || res.status !== 0) {
      throw new ScheduleError(`"${this.command} -" failed (exit ${res.status}): ${(res.stderr || res.error?.message || '').trim()}`);
    }
  }
}

export interface Change {
  /** What changed (or would change, in dry run), one line each, for the user. */
  messages: string[];
  changed: boolean;
}

/** Install (or update) this checkout's crontab entry; other lines stay exactly as they were. */
export function installCron(crontab: Crontab, spec: ScheduleSpec, dryRun: boolean): Change {
  const before = crontab.read();
  const after = addCronEntry(before, spec);
  if (after === before) return { changed: false, messages: ['the crontab already has this entry; nothing changed'] };
  if (!dryRun) crontab.write(after);
  return { changed: true, messages: [`${dryRun ? 'would install' : 'installed'} the crontab entry for ${spec.workspaceRoot}`] };
}

export function uninstallCron(crontab: Crontab, spec: Pick<ScheduleSpec, 'name' | 'workspaceRoot'>, dryRun: boolean): Change {
  const before = crontab.read();
  const after = removeCronEntry(before, spec);
  if (after === before) return { changed: false, messages: ['the crontab has no entry for this checkout; nothing changed'] };
  if (!dryRun) crontab.write(after);
  return { changed: true, messages: [`${dryRun ? 'would remove' : 'removed'} the crontab entry for ${spec.workspaceRoot}`] };
}

/** systemd's per-user unit folder: $XDG_CONFIG_HOME/systemd/user, default ~/.config/systemd/user. */
export function defaultUnitDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config'), 'systemd', 'user');
}

/** launchd's per-user agents folder. */
export function defaultAgentDir(): string {
  return path.join(os.homedir(), 'Library', 'LaunchAgents');
}


/** Write the files that differ from what is there (atomically); the same files again change nothing. */
export async function writeFiles(dir: string, files: ScheduleFile[], dryRun: boolean): Promise<Change> {
  const messages: string[] = [];
  for (const unit of files) {
    const file = path.join(dir, unit.file);
    if ((await ifExists(fsp.readFile(file, 'utf8'))) === unit.text) continue;
    if (!dryRun) await writeFileAtomic(file, unit.text);
    messages.push(`${dryRun ? 'would write' : 'wrote'} ${file}`);
  }
  if (!messages.length) return { changed: false, messages: ['already installed and up to date; nothing changed'] };
  return { changed: true, messages };
}

/** Remove these files (paths relative to `dir`; dangling symlinks too); other files are left alone. */
export async function removeFiles(dir: string, relPaths: string[], dryRun: boolean): Promise<Change> {
  const messages: string[] = [];
  for (const file of relPaths.map((f) => path.join(dir, f))) {
    // lstat, not exists: a dangling symlink is there too.
    if (!(await fsp.lstat(file).catch(() => undefined))) continue;
    if (!dryRun) await fsp.rm(file, { force: true });
    messages.push(`${dryRun ? 'would remove' : 'removed'} ${file}`);
  }
  if (!messages.length) return { changed: false, messages: [`none of ${relPaths.join(', ')} in ${dir}; nothing changed`] };
  return { changed: true, messages };
}

/** Whether the flock tool exists here (util-linux; absent on macOS by default). */
export function flockAvailable(): boolean {
  return spawnSync('/bin/sh', ['-c', 'command -v flock'], { stdio: 'ignore' }).status === 0;
}
