import { createHash } from 'node:crypto';
import { compareKeys, stableStringify, type EpisodeManifest, type EpisodeStatus } from '@podline/config';

/** What `rss` leaves behind, for Nx to hash: changes exactly when the manifest or the audio set changes. */
export interface RssState {
  site: string;
  /** sha256 of the manifest's stable JSON. */
  manifestSha256: string;
  podcasts: Record<
    string,
    {
      episodes: number;
      downloaded: number;
      failed: number;
      items: Array<{ fileKey: string; status: EpisodeStatus; sha256?: string; error?: string }>;
    }
  >;
}

function manifestSha256(manifest: EpisodeManifest): string {
  return createHash('sha256').update(stableStringify(manifest)).digest('hex');
}

/** Deterministic: sorted, no times, no counts of a run; only what is. */
export function rssState(manifest: EpisodeManifest): RssState {
  const podcasts: RssState['podcasts'] = {};
  for (const r of manifest.episodes) {
    const p = (podcasts[r.podcast] ??= { episodes: 0, downloaded: 0, failed: 0, items: [] });
    p.episodes++;
    if (r.status === 'downloaded') p.downloaded++;
    if (r.status === 'failed') p.failed++;
    p.items.push({
      fileKey: r.fileKey,
      status: r.status,
      sha256: r.status === 'downloaded' ? r.audio?.sha256 : undefined,
      error: r.status === 'failed' ? r.error : undefined,
    });
  }
  for (const p of Object.values(podcasts)) p.items.sort((a, b) => compareKeys(a.fileKey, b.fileKey));
  return { site: manifest.site, manifestSha256: manifestSha256(manifest), podcasts };
}
