import { compareKeys, type EpisodeManifest, type EpisodeRecord } from '@podline/config';
import { episodeIdentity, legacyEnclosureIdentity, makeFileKey } from './identity';
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
  /** New records, with audio or not. */
  added: number;
  /** Of the new records: recorded without audio (no enclosure). */
  noAudio: number;
  /** Of the new records: recorded as video and skipped (only a video enclosure; the podcast does not include video). */
  video: number;
  /** Items not recorded: a second item with an id already seen, or nothing to know an item by. */
  duplicates: number;
  notices: FeedNotice[];
}

export interface MergeOptions {
  /** The podcast downloads video-only episodes (site config `includeVideo`). */
  includeVideo?: boolean;
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

/** What an item's media makes of a record's status: no enclosure, a skipped video, or something to download. */
function mediaStatus(item: FeedItem, includeVideo: boolean): 'no-audio' | 'video' | 'new' {
  if (!item.enclosure) return 'no-audio';
  return item.enclosure.video && !includeVideo ? 'video' : 'new';
}

/**
 * Existing records made under earlier identity rules, so a rule change never turns one episode into two:
 * the record whose enclosure URL is exactly this item's, else the record with the id the old rules give this item
 * (when only one item of the feed maps to it).
 */
function legacyMatcher(existing: readonly EpisodeRecord[], items: readonly FeedItem[]) {
  const byUrl = new Map<string, EpisodeRecord>();
  for (const r of existing) if (r.audioUrl && r.idSource !== 'guid' && !byUrl.has(r.audioUrl)) byUrl.set(r.audioUrl, r);
  const byId = new Map(existing.map((r) => [r.id, r] as const));
  // The old rules: enclosure URL without its query; title and date (Atom entries were read without guid or enclosure).
  const legacyIds = items.map((item) =>
    [item.guid ? undefined : item.enclosure && legacyEnclosureIdentity(item.enclosure.url), item.title && `${item.title}|${item.published ?? ''}`].filter((id): id is string => !!id),
  );
  const uses = new Map<string, number>();
  for (const ids of legacyIds) for (const id of ids) uses.set(id, (uses.get(id) ?? 0) + 1);
  const claimed = new Set<EpisodeRecord>();
  return {
    claim(r: EpisodeRecord) {
      claimed.add(r);
    },
    find(item: FeedItem, index: number): EpisodeRecord | undefined {
      const byEnclosure = item.enclosure ? byUrl.get(item.enclosure.url) : undefined;
      if (byEnclosure && !claimed.has(byEnclosure) && !item.guid) return byEnclosure;
      for (const id of legacyIds[index]) {
        const old = uses.get(id) === 1 ? byId.get(id) : undefined;
        if (old && !claimed.has(old) && old.idSource !== 'guid') return old;
      }
      return undefined;
    },
  };
}

/**
 * Fold a freshly parsed feed into a podcast's existing records.
 * - Existing records keep their id, file key, audio and status (never renamed or renumbered); the feed's fields
 *   are refreshed (a new enclosure URL for the same id updates audioUrl only). A record made under earlier
 *   identity rules is found again (see legacyMatcher); one known only by title and date takes the entry's guid.
 * - Records no longer in the feed are kept (feeds drop old items; our data stays).
 * - New items without an enclosure are recorded as `no-audio`, video-only ones as `video` (unless the podcast
 *   includes video), both noticed once; duplicates of an id keep the first and are noticed every time.
 */
export function mergeFeed(podcast: string, existing: readonly EpisodeRecord[], items: readonly FeedItem[], options: MergeOptions = {}): MergeResult {
  const includeVideo = !!options.includeVideo;
  const byId = new Map(existing.map((r) => [r.id, r] as const));
  const usedKeys = new Map(existing.map((r) => [r.fileKey, r.id] as const));
  const legacy = legacyMatcher(existing, items);
  const seen = new Map<string, string>();
  const notices: FeedNotice[] = [];
  const result = { added: 0, noAudio: 0, video: 0, duplicates: 0 };
  items.forEach((item, index) => {
    const identity = episodeIdentity(item);
    if (!identity) {
      result.duplicates++;
      notices.push({ podcast, episode: label(item, index), message: 'has no guid, enclosure or title: not recorded' });
      return;
    }
    let old = byId.get(identity.id);
    if (!old) {
      const found = legacy.find(item, index);
      if (found && !seen.has(found.id)) {
        old = found;
        if (found.idSource === 'title-date' && identity.idSource === 'guid') {
          // Known only by title and date so far: the guid is its identity from now on (file key unchanged).
          byId.delete(found.id);
          old = { ...found, id: identity.id, idSource: 'guid' };
        }
      }
    }
    const id = old?.id ?? identity.id;
    const first = seen.get(id);
    if (first !== undefined) {
      result.duplicates++;
      notices.push({ podcast, episode: label(item, index), message: `has the same ${identity.idSource} as ${first} (${id}): kept the first, skipped this one` });
      return;
    }
    seen.set(id, label(item, index));
    const media = mediaStatus(item, includeVideo);
    if (old) {
      legacy.claim(old);
      const status = old.status === 'no-audio' || old.status === 'video' || (old.status === 'new' && media !== 'new') ? media : old.status;
      byId.set(id, { ...old, ...fromFeed(item), status, error: status === 'failed' ? old.error : undefined });
      return;
    }
    let fileKey = makeFileKey(identity.id, item.title, item.published);
    // A 40-bit hash collision within one podcast is unlikely but must never merge two episodes' files.
    for (let len = 16; usedKeys.has(fileKey) && usedKeys.get(fileKey) !== identity.id; len += 8) {
      fileKey = makeFileKey(identity.id, item.title, item.published, len);
    }
    usedKeys.set(fileKey, identity.id);
    result.added++;
    if (media === 'no-audio') {
      result.noAudio++;
      notices.push({ podcast, episode: label(item, index), message: 'has no enclosure (no audio): recorded as no-audio' });
    } else if (media === 'video') {
      result.video++;
      notices.push({ podcast, episode: label(item, index), message: `has only a video enclosure (${item.enclosure!.type ?? item.enclosure!.url}): recorded as video and not downloaded; set "includeVideo": true on the podcast in site.config.json to transcribe its audio` });
    }
    byId.set(identity.id, { id: identity.id, idSource: identity.idSource, podcast, fileKey, ...fromFeed(item), status: media });
  });
  return { records: sortRecords([...byId.values()]), ...result, notices };
}

export function sortRecords(records: EpisodeRecord[]): EpisodeRecord[] {
  return records.sort((a, b) => compareKeys(a.podcast, b.podcast) || compareKeys(a.fileKey, b.fileKey));
}

export function emptyManifest(site: string): EpisodeManifest {
  return { version: 1, site, episodes: [] };
}
