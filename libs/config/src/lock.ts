import { closeSync, mkdirSync, openSync, promises as fsp, readFileSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import * as path from 'node:path';
import { tempFileOwner, tempPathFor } from './atomic';

/** Who holds a site: one Nx run (its id), its process, since when, on which machine. */
export interface LockHolder {
  runId: string;
  pid: number;
  host: string;
  startedAt: string;
}

export type LockResult =
  | { acquired: true; tookOverFrom?: LockHolder }
  | { acquired: false; holder: LockHolder };

export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** One of our temp files whose writer is gone: it can never become complete, so it may be removed. */
export function isStaleTemp(name: string): boolean {
  const pid = tempFileOwner(name);
  return pid !== undefined && pid !== process.pid && !isProcessAlive(pid);
}

async function readHolder(file: string): Promise<LockHolder | undefined> {
  try {
    // Synchronous: one small read, which every target of a run makes per site (cheaper than a thread-pool round trip).
    return JSON.parse(readFileSync(file, 'utf8')) as LockHolder;
  } catch {
    return undefined;
  }
}

/** A holder is live when its process runs on this machine (another host's lock is trusted as live). */
function isLive(holder: LockHolder): boolean {
  return holder.host !== hostname() || isProcessAlive(holder.pid);
}

/**
 * Take the per-site lock for `me`'s run. The same run re-enters freely (each target of a run takes it);
 * another live run keeps it; a lock left by a dead process is taken over (and the caller says so).
 */
export async function acquireLock(file: string, me: Omit<LockHolder, 'host'>): Promise<LockResult> {
  const mine: LockHolder = { ...me, host: hostname() };
  mkdirSync(path.dirname(file), { recursive: true });
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      try {
        writeSync(fd, JSON.stringify(mine));
      } finally {
        closeSync(fd);
      }
      return { acquired: true };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = await readHolder(file);
    if (!holder) {
      // Half-written or vanished between our open and read: give the writer a moment, then look again.
      await new Promise((r) => setTimeout(r, 20));
      const again = await readHolder(file);
      if (again) continue;
      await fsp.rm(file, { force: true });
      continue;
    }
    if (holder.runId === mine.runId) return { acquired: true };
    if (isLive(holder)) return { acquired: false, holder };
    // Stale: replace atomically, then check we are the one who won.
    const tmp = tempPathFor(file);
    await fsp.writeFile(tmp, JSON.stringify(mine));
    await fsp.rename(tmp, file);
    const now = await readHolder(file);
    if (now?.runId === mine.runId) return { acquired: true, tookOverFrom: holder };
    if (now && isLive(now)) return { acquired: false, holder: now };
  }
  throw new Error(`could not take the lock ${file}`);
}

/** Release every lock in `dir` held by `runId`. */
export async function releaseLocks(dir: string, runId: string): Promise<string[]> {
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch {
    return [];
  }
  const released: string[] = [];
  for (const name of names.filter((n) => n.endsWith('.lock'))) {
    const file = path.join(dir, name);
    const holder = await readHolder(file);
    if (holder?.runId === runId) {
      await fsp.rm(file, { force: true });
      released.push(name.replace(/\.lock$/, ''));
    }
  }
  return released;
}
