import { randomBytes } from 'node:crypto';
import { promises as fsp, readFileSync } from 'node:fs';
import * as path from 'node:path';

/** Suffix every temporary file we write carries; sync never uploads such files. */
export const TEMP_SUFFIX = '.podline-tmp';

/** A temp name beside `file`, unique per call, recognisable as ours. */
export function tempPathFor(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}${TEMP_SUFFIX}`);
}

/** The process that writes one of our temp files (the pid in its name, see tempPathFor); undefined for any other file. */
export function tempFileOwner(name: string): number | undefined {
  const m = /\.(\d+)\.[0-9a-f]+\.podline-tmp$/.exec(path.basename(name));
  return m ? Number(m[1]) : undefined;
}

/** True for our temp files and for editor/OS droppings that must never be treated as data. */
export function isTempOrJunk(name: string): boolean {
  const base = path.basename(name);
  return (
    base.endsWith(TEMP_SUFFIX) ||
    base.endsWith('.part') ||
    base.endsWith('.tmp') ||
    base.endsWith('.swp') ||
    base.endsWith('~') ||
    base === '.DS_Store' ||
    base === 'Thumbs.db' ||
    base === 'desktop.ini' ||
    base.startsWith('._') ||
    base.startsWith('.#')
  );
}

/** JSON with object keys sorted at every level, two-space indent, trailing newline: byte-stable. */
export function stableStringify(value: unknown): string {
  return JSON.stringify(sortKeys(value), null, 2) + '\n';
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value as object).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortKeys(v);
    }
    return out;
  }
  return value;
}

/** Write to a temp name beside the target, fsync, then rename: a reader sees the old or the new file, never half. */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  await fsp.mkdir(path.dirname(file), { recursive: true });
  const tmp = tempPathFor(file);
  try {
    const fh = await fsp.open(tmp, 'w');
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fsp.rename(tmp, file);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  }
}

/** Write `value` as stable JSON, atomically; skips the write when the bytes are already identical. */
export async function writeJsonAtomic(file: string, value: unknown): Promise<boolean> {
  const text = stableStringify(value);
  try {
    // A synchronous read: the common case (a no-op run's state) is one small file that has not changed.
    if (readFileSync(file, 'utf8') === text) return false;
  } catch {
    /* missing: write it */
  }
  await writeFileAtomic(file, text);
  return true;
}

/** What the file operation `io` gives, or undefined when its file does not exist (other errors are thrown). */
export async function ifExists<T>(io: Promise<T>): Promise<T | undefined> {
  try {
    return await io;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
