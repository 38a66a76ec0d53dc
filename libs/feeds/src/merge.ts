import type { EpisodeManifest, EpisodeRecord } from '@podline/config';
import { episodeIdentity, makeFileKey } from './identity';
import type { FeedItem } from './parse';

/** Something in a feed worth telling the publisher's reader about, that does not stop the run. */
export interface FeedNotice {
  podcast: string;
  episode: string;
  message: string;
}

export interface MergeResult {
  /** Every record of the podcast (kept ones included), sorted by fileKey. */
  records: EpisodeRecord[];
  added: number;
  notices: FeedNotice[];
}

function label(item: FeedItem, index: number): string {
  return item.title ? `"${item.title}"` : item.guid ? `guid ${item.guid}` : `item #${index + 1}`;
}

/** Fields the feed owns: refreshed from the feed on every parse. Identity, file key, audio and status are ours. */
function fromFeed(item: FeedItem): Pick<EpisodeRecord, 'title' | 'published' | 'durationSeconds' | 'description' | 'episodeNumber' | 'seasonNumber' | 'audioUrl' | 'audioType' | 'audioLength' | 'transcripts'> {
  return {
    title: item.title ?? '',
    published: item.published,
    durationSeconds: item.durationSeconds,
    description: item.description,
    episodeNumber: item.episodeNumber,
    seasonNumber: item.seasonNumber,
    audioUrl: item.enclosure?.url,
    audioType: item.enclosure?.type,
    audioLength: item.enclosure?.length,
    transcripts: item.transcripts.length ? item.transcripts : undefined,
  };
}

/**
 * Fold a freshly parsed feed into a podcast's existing records.
 * - Existing records keep their id, file key, audio and status (never renamed or renumbered); the feed's fields
 *   are refreshed (a new enclosure URL for the same id updates audioUrl only).
 * - Records no longer in the feed are kept (feeds drop old items; our data stays).
 * - Items without an enclosure are recorded as `no-audio`; duplicates of an id keep the first and are noticed.
 */
export function mergeFeed(podcast: string, existing: readonly EpisodeRecord[], items: readonly FeedItem[]): MergeResult {
  const byId = new Map(existing.map((r) => [r.id, r] as const));
  const usedKeys = new Map(existing.map((r) => [r.fileKey, r.id] as const));
  const seen = new Map<string, string>();
  const notices: FeedNotice[] = [];
  let added = 0;
  items.forEach((item, index) => {
    const identity = episodeIdentity(item);
    if (!identity) {
      notices.push({ podcast, episode: label(item, index), message: 'has no guid, enclosure or title: skipped' });
      return;
    }
    const first = seen.get(identity.id);
    if (first !== undefined) {
      notices.push({ podcast, episode: label(item, index), message: `has the same ${identity.idSource} as ${first} (${identity.id}): kept the first, skipped this one` });
      return;
    }
    seen.set(identity.id, label(item, index));
    if (!item.enclosure) {
      notices.push({ podcast, episode: label(item, index), message: 'has no enclosure (no audio): recorded as no-audio' });
    }
    const old = byId.get(identity.id);
    if (old) {
      const status = old.status === 'no-audio' && item.enclosure ? 'new' : old.status;
      byId.set(identity.id, { ...old, ...fromFeed(item), status, error: status === 'failed' ? old.error : undefined });
      return;
    }
    let fileKey = makeFileKey(identity.id, item.title, item.published);
    // A 40-bit hash collision within one podcast is unlikely but must never merge two episodes' files.
    for (let len = 16; usedKeys.has(fileKey) && usedKeys.get(fileKey) !== identity.id; len += 8) {
      fileKey = makeFileKey(identity.id, item.title, item.published, len);
    }
    usedKeys.set(fileKey, identity.id);
    added++;
    byId.set(identity.id, {
      id: identity.id,
      idSource: identity.idSource,
      podcast,
      fileKey,
      ...fromFeed(item),
      status: item.enclosure ? 'new' : 'no-audio',
    });
  });
  return { records: sortRecords([...byId.values()]), added, notices };
}

export function sortRecords(records: EpisodeRecord[]): EpisodeRecord[] {
  return records.sort((a, b) => (a.podcast < b.podcast ? -1 : a.podcast > b.podcast ? 1 : a.fileKey < b.fileKey ? -1 : a.fileKey > b.fileKey ? 1 : 0));
}

export function emptyManifest(site: string): EpisodeManifest {
  return { version: 1, site, episodes: [] };
}
