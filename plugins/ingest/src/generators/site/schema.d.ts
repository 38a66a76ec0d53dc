export interface SiteGeneratorSchema {
  id: string;
  title: string;
  feedUrl: string;
  /** The command line parses digits as a number (never one with a leading zero): used as its decimal text. */
  awsAccountId: string | number;
  region: string;
  podcastId?: string;
  automationRoleName?: string;
  centralAccountId?: string | number;
  stateBucket?: string;
}
