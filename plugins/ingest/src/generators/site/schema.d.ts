export interface SiteGeneratorSchema {
  /** Where the site's files live. Default (no prompt): s3 when awsAccountId is given, else local. */
  storage?: 'local' | 's3';
  id: string;
  title: string;
  feedUrl: string;
  /** Which episodes: the whole back catalogue (default), the newest N, or the last N days. */
  episodes?: 'all' | 'newest' | 'recent';
  /** With episodes=newest (default 20). */
  newest?: number;
  /** With episodes=recent (default 90). */
  lastDays?: number;
  /** Downloads per run (default 20; 0: no cap). */
  maxDownloadsPerRun?: number;
  /** Transcripts per run (default 3; 0: no cap). */
  maxEpisodesPerRun?: number;
  /** S3 sites only. The command line parses digits as a number (never one with a leading zero): used as its decimal text. */
  awsAccountId?: string | number;
  /** S3 sites only. */
  region?: string;
  podcastId?: string;
  automationRoleName?: string;
  centralAccountId?: string | number;
  stateBucket?: string;
}
