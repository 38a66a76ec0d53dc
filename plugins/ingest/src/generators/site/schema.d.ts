export interface SiteGeneratorSchema {
  /** Where the site's files live. Default (no prompt): s3 when awsAccountId is given, else local. */
  storage?: 'local' | 's3';
  id: string;
  title: string;
  feedUrl: string;
  /** S3 sites only. The command line parses digits as a number (never one with a leading zero): used as its decimal text. */
  awsAccountId?: string | number;
  /** S3 sites only. */
  region?: string;
  podcastId?: string;
  automationRoleName?: string;
  centralAccountId?: string | number;
  stateBucket?: string;
}
