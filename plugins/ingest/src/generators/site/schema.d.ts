export interface SiteGeneratorSchema {
  id: string;
  title: string;
  feedUrl: string;
  awsAccountId: string;
  region: string;
  podcastId?: string;
  automationRoleName?: string;
  centralAccountId?: string;
  stateBucket?: string;
}
