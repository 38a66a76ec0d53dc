import type { EpisodeManifest, EpisodeRecord } from '@podline/config';
import { sortRecords } from './merge';

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
