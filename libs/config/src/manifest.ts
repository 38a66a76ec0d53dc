/**
 * The site's episode manifest: `episode-manifest/full-episode-manifest.json`.
 * Written by `rss` (atomically, sorted, deterministic); read by transcribe, upload and index.
 */
export interface TranscriptLink {
  url: string;
  /** MIME type as the feed gives it: application/x-subrip, text/vtt, application/json, text/html… */
  type: string;
  language?: string;
  rel?: string;
}

/** `video`: the item has only a video enclosure and its podcast does not include video (skipped). */
export type EpisodeStatus = 'new' | 'downloaded' | 'failed' | 'no-audio' | 'video';

export interface EpisodeRecord {
  /** Stable id: the guid; else the enclosure URL without query string; else title + date. Never changes. */
  id: string;
  idSource: 'guid' | 'enclosure' | 'title-date';
  /** Podcast id (from the site config). */
  podcast: string;
  /** `YYYY-MM-DD_<slug>_<short hash of id>`: filesystem-safe, deterministic, never renamed. */
  fileKey: string;
  title: string;
  /** ISO 8601 publish time, when the feed gives one. */
  published?: string;
  durationSeconds?: number;
  description?: string;
  episodeNumber?: number;
  seasonNumber?: number;
  /** Enclosure URL as last seen in the feed. */
  audioUrl?: string;
  audioType?: string;
  audioLength?: number;
  transcripts?: TranscriptLink[];
  /** Set once the audio is downloaded and verified. */
  audio?: { key: string; size: number; sha256: string };
  status: EpisodeStatus;
  /** Last failure, when status is failed. */
  error?: string;
  /** Runs in a row whose download of this episode failed (reset by a success). */
  failedRuns?: number;
}

export interface EpisodeManifest {
  version: 1;
  site: string;
  /** Sorted by podcast, then fileKey. */
  episodes: EpisodeRecord[];
}
