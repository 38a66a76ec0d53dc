import { promises as fsp } from 'node:fs';
import { PodlineError, type EpisodeManifest, type EpisodeRecord } from '@podline/config';
import { sortRecords } from './merge';

/** An episode manifest that cannot be used; the message says what to do (the file itself is never touched). */
export class ManifestError extends PodlineError {
  /** What is wrong with the file, without the fix (for callers whose fix differs, e.g. the bucket's copy). */
  readonly reason: string;
  constructor(message: string, site: string) {
    const fix =
      `move it aside, then run \`nx run ${site}:pre-sync\` to fetch the bucket's copy, ` +
      `or \`nx run ${site}:rss\` to rebuild it from the feeds (audio already here is adopted, not downloaded again)`;
    super(`${message}. Fix: ${fix}`, { fix, site });
    this.reason = message;
  }
}

/** Read the site's manifest; undefined when there is none yet. Throws ManifestError when it is unreadable. */
export async function readManifest(file: string, site: string): Promise<EpisodeManifest | undefined> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ManifestError(`cannot read ${file}: ${(err as Error).message}`, site);
  }
  let parsed: EpisodeManifest;
  try {
    parsed = JSON.parse(text) as EpisodeManifest;
  } catch (err) {
    throw new ManifestError(`${file} is not valid JSON (${(err as Error).message}); it was left as is`, site);
  }
  if (!parsed || parsed.version !== 1 || !Array.isArray(parsed.episodes)) {
    throw new ManifestError(`${file} is not a version 1 episode manifest; it was left as is`, site);
  }
  if (parsed.site !== site) throw new ManifestError(`${file} belongs to site "${parsed.site}", not "${site}"; it was left as is`, site);
  return parsed;
}

/** How far an episode got: a record that got further wins a merge (audio downloaded beats not yet). */
const PROGRESS: Record<EpisodeRecord['status'], number> = { 'no-audio': 0, video: 0, new: 1, failed: 1, downloaded: 2 };

export interface ManifestMerge {
  manifest: EpisodeManifest;
  /** Episodes only `other` had, now in the result. */
  added: number;
  /** Episodes both had where `other`'s record got further (e.g. its audio is downloaded) and was taken. */
  advanced: number;
  /** Episodes of `other` left out because their file key is another episode's here (named, for a warning). */
  clashes: string[];
}

/**
 * Merge another copy of the site's manifest (the bucket's, or another machine's) into `local`. Nothing is
 * ever dropped: every episode of either side is in the result, so the result is never older or smaller than
 * either. For an episode both have, `local`'s record stays unless `other`'s got further (downloaded beats
 * new, failed or no-audio). A record of `other` whose file key belongs to a different episode here is left
 * out and named (file keys are never shared). Deterministic: sorted as `rss` writes it.
 */
export function mergeManifests(local: EpisodeManifest, other: EpisodeManifest): ManifestMerge {
  const byId = new Map<string, EpisodeRecord>(local.episodes.map((r) => [`${r.podcast}\n${r.id}`, r] as const));
  const keyOwner = new Map<string, string>(local.episodes.map((r) => [`${r.podcast}\n${r.fileKey}`, r.id] as const));
  let added = 0;
  let advanced = 0;
  const clashes: string[] = [];
  for (const r of other.episodes) {
    const id = `${r.podcast}\n${r.id}`;
    const mine = byId.get(id);
    if (mine) {
      if (PROGRESS[r.status] > PROGRESS[mine.status] && r.fileKey === mine.fileKey) {
        byId.set(id, { ...r, failedRuns: undefined, error: undefined });
        advanced++;
      }
      continue;
    }
    const owner = keyOwner.get(`${r.podcast}\n${r.fileKey}`);
    if (owner !== undefined && owner !== r.id) {
      clashes.push(`${r.podcast}/${r.fileKey} (${r.id})`);
      continue;
    }
    byId.set(id, r);
    keyOwner.set(`${r.podcast}\n${r.fileKey}`, r.id);
    added++;
  }
  return { manifest: { version: 1, site: local.site, episodes: sortRecords([...byId.values()]) }, added, advanced, clashes };
}
