/** The site config as written in `sites/<id>/site.config.json` (see ../site.config.schema.json). */
export interface PodcastConfig {
  id: string;
  title: string;
  feedUrl: string;
  active?: boolean;
  /** Download video-only episodes too (kept with their real extension; transcribe uses the audio stream). Default false. */
  includeVideo?: boolean;
  /** Largest enclosure accepted, in MB (default DEFAULT_MAX_AUDIO_MB). */
  maxAudioMB?: number;
}

/** An enclosure larger than this (MB) is refused unless the podcast's maxAudioMB says otherwise (10 h of 128 kbit/s MP3 is 576 MB). */
export const DEFAULT_MAX_AUDIO_MB = 1000;

export type StorageConfig =
  | { kind: 'none' }
  | { kind: 'local'; path?: string }
  | {
      kind: 's3';
      bucket: string;
      region: string;
      prefix?: string;
      endpoint?: string;
      forcePathStyle?: boolean;
    };

export interface AwsConfig {
  accountId: string;
  region?: string;
  automationRoleName?: string;
}

export interface TranscriptionConfig {
  engine?: 'whisper' | 'whisper-cli';
  model?: string;
  language?: string;
  prompt?: string;
  usePublisherTranscripts?: boolean;
  /** local (default): Whisper on this machine; queue: jobs on the shared queue, done by workers anywhere. */
  mode?: 'local' | 'queue';
  /** Queue mode: attempts per job before it is failed (default 3). */
  queueAttempts?: number;
  /** At most this many episodes transcribed per run, newest first; the rest wait for later runs. Absent: all. */
  maxEpisodesPerRun?: number;
  /** Local mode: episodes transcribed at once on this machine, sharing its threads (default 1). */
  parallel?: number;
  /** Voice-activity detection: Whisper hears only the speech. */
  vad?: VadConfig;
  /** Corrections file relative to the site folder (default corrections.txt; missing: none). */
  corrections?: string;
}

export interface VadConfig {
  enabled?: boolean;
  threshold?: number;
  minSpeechMs?: number;
  minSilenceMs?: number;
  padMs?: number;
  windowSeconds?: number;
}

/** Which episodes get audio, and how many per run (see the schema's "downloads"). Nothing set: all, at once. */
export interface DownloadsConfig {
  /** Only the N newest episodes of each podcast. */
  newest?: number;
  /** Only episodes published in the last N days. */
  lastDays?: number;
  /** At most this many downloads per run, newest first; the rest wait for later runs. */
  maxPerRun?: number;
}

/** What URLs from untrusted sources (feeds, the bucket) may reach; see the schema's "network". */
export interface NetworkConfig {
  allowPrivateAddresses?: boolean;
}

export type IndexConfig =
  | { kind: 'local' }
  | { kind: 'lambda'; functionName: string; invocationType?: 'RequestResponse' | 'Event' };

export interface SiteConfigFile {
  $schema?: string;
  id: string;
  title: string;
  podcasts: PodcastConfig[];
  storage?: StorageConfig;
  aws?: AwsConfig;
  transcription?: TranscriptionConfig;
  downloads?: DownloadsConfig;
  network?: NetworkConfig;
  index?: IndexConfig;
}

/** A validated site config with every default filled in. */
export interface SiteConfig {
  id: string;
  title: string;
  /** Absolute path of the folder holding site.config.json. */
  siteDir: string;
  /** Absolute path of site.config.json. */
  configFile: string;
  podcasts: Array<PodcastConfig & { active: boolean }>;
  storage: StorageConfig;
  aws?: Required<Pick<AwsConfig, 'accountId' | 'automationRoleName'>> & { region?: string };
  /** `mode`, `queueAttempts` and `parallel` are filled in by the loader; absent (configs built in code) means local, 3, 1. */
  transcription: Required<Omit<TranscriptionConfig, 'prompt' | 'vad' | 'corrections' | 'mode' | 'queueAttempts' | 'parallel' | 'maxEpisodesPerRun'>> & {
    prompt?: string;
    /** As configured (defaults are filled in by the speech lib); absent: all defaults. */
    vad?: VadConfig;
    /** Absolute path of the corrections file (it may not exist); absent: none. */
    corrections?: string;
    mode?: 'local' | 'queue';
    queueAttempts?: number;
    /** Absent: no cap. */
    maxEpisodesPerRun?: number;
    /** Absent: 1. */
    parallel?: number;
  };
  /** As configured; absent (or empty): the whole back catalogue, no per-run cap. */
  downloads?: DownloadsConfig;
  /** Optional so hand-made configs (tests, scripts) stay valid; absent means the defaults (nothing private). */
  network?: Required<NetworkConfig>;
  index: IndexConfig;
}

export const DEFAULT_AUTOMATION_ROLE_NAME = 'podline-automation';
export const DEFAULT_MODEL = 'base.en';
