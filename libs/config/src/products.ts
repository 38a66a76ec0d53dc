import { lstatSync, promises as fsp, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { writeJsonAtomic } from './atomic';
import { sha256 } from './hash';
import type { EpisodeManifest } from './manifest';
import { keys, stateFile, type SitePaths } from './paths';

/**
 * The products ledger: which local files a cached target's state vouches for, with the cheap facts (size,
 * mtime, inode) they had when the target wrote that state. A cache hit restores only the state file, so an
 * outward-looking target checks the ledger against the data folder before the cached targets are hashed
 * (`checkProducts`): a product that is gone or was rewritten since changes their hash, and they run again.
 * Nothing is hashed; a no-op check is one stat per product.
 *
 * Kept in the data folder (`.cache/products/<target>.json`): losing the data folder loses the ledger too,
 * which is itself a loss.
 */
interface Ledger {
  /** sha256 of the state file the products belong to. */
  state: string;
  /** key -> [size, mtimeMs, ino] */
  files: Record<string, [number, number, number]>;
}

function ledgerFile(paths: SitePaths, target: string): string {
  return path.join(paths.cacheDir(), 'products', `${target}.json`);
}


/** Synchronous: one stat per product on every run, each cheaper than an asynchronous round trip. */
function stamp(paths: SitePaths, key: string): [number, number, number] | undefined {
  let st;
  try {
    st = lstatSync(paths.file(key), { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
  return st?.isFile() ? [st.size, Math.round(st.mtimeMs), st.ino] : undefined;
}

function readIfThere(file: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch {
    return undefined;
  }
}

/** After a cached target wrote its state file: remember the products it vouches for, as they are now. */
export async function recordProducts(paths: SitePaths, workspaceRoot: string, target: string, productKeys: readonly string[]): Promise<void> {
  const state = await fsp.readFile(stateFile(workspaceRoot, paths.siteId, target));
  const files: Ledger['files'] = {};
  for (const key of [...productKeys].sort()) {
    const s = stamp(paths, key);
    if (s) files[key] = s;
  }
  await writeJsonAtomic(ledgerFile(paths, target), { state: sha256(state), files } satisfies Ledger);
}

/**
 * What the data folder lost of the products the cached targets' states vouch for: per target, the keys that
 * are missing or were rewritten since, or `['(no record)']` when this data folder has no ledger for the state
 * (a lost data folder, or a state restored from the cache that this folder never produced). A target whose
 * state file does not exist vouches for nothing. Empty lists when all is there.
 */
export async function checkProducts(paths: SitePaths, workspaceRoot: string, targets: readonly string[]): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const target of targets) {
    out[target] = [];
    const state = readIfThere(stateFile(workspaceRoot, paths.siteId, target));
    if (!state) continue;
    let ledger: Ledger | undefined;
    try {
      ledger = JSON.parse(readIfThere(ledgerFile(paths, target))?.toString('utf8') ?? 'null') as Ledger | undefined;
    } catch {
      ledger = undefined;
    }
    if (!ledger || ledger.state !== sha256(state) || typeof ledger.files !== 'object') {
      out[target] = ['(no record)'];
      continue;
    }
    for (const [key, want] of Object.entries(ledger.files)) {
      const got = stamp(paths, key);
      if (!got || got[0] !== want[0] || got[1] !== want[1] || got[2] !== want[2]) out[target].push(key);
    }
  }
  return out;
}

/** The state file the last outward-looking target (`rss`) writes with `checkProducts`' findings. */
export const PRODUCTS_STATE = 'products';

/** The cached targets that leave products in the data folder (the ones `checkProducts` looks after). */
export const TARGETS_WITH_PRODUCTS = ['transcribe', 'index'] as const;

/**
 * The `products` state from checkProducts' findings. All there: the same bytes every run, so the cached
 * targets hit. Something lost: the run's id is part of it, so no earlier cache entry can ever stand in (a
 * second loss of the same files must not hit the entry of the first repair).
 */
export function productsState(lost: Record<string, string[]>, runId: string): Record<string, { lost: string[]; run?: string }> {
  const out: Record<string, { lost: string[]; run?: string }> = {};
  for (const [target, keys] of Object.entries(lost)) out[target] = keys.length ? { lost: keys, run: runId } : { lost: [] };
  return out;
}

/**
 * The state file the `rss` target writes with what `transcribe` still owes when transcription is done in
 * bounded slices (`transcription.maxEpisodesPerRun`). Hashed by transcribe only (not by index): while
 * episodes wait, each slice changes it, so the next run is never a cache hit that stands in for the slice
 * still to do; once nothing waits it is the same bytes every run, and transcribe hits again.
 */
export const BACKLOG_STATE = 'backlog';

/** Transcript keys of the manifest's downloaded episodes that have no transcript in the data folder yet, sorted. */
export async function transcriptBacklog(paths: SitePaths, manifest: Pick<EpisodeManifest, 'episodes'>): Promise<string[]> {
  const out: string[] = [];
  for (const ep of manifest.episodes) {
    if (ep.status !== 'downloaded' || !ep.audio?.sha256) continue;
    const st = await fsp.stat(paths.transcriptFile(ep.podcast, ep.fileKey)).catch(() => undefined);
    if (!st) out.push(keys.transcript(ep.podcast, ep.fileKey));
  }
  return out.sort();
}

/**
 * The backlog state: without a per-run cap, transcribe does everything it is given, so nothing is recorded
 * (the same bytes every run); with one, how many transcripts wait and a digest of which.
 */
export function backlogState(capped: boolean, waiting: readonly string[]): { capped: boolean; waiting?: number; sha256?: string } {
  if (!capped) return { capped: false };
  return { capped: true, waiting: waiting.length, sha256: sha256([...waiting].sort().join('\n')) };
}
