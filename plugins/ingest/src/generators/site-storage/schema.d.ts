export interface SiteStorageGeneratorSchema {
  id: string;
  storage: 'local' | 's3';
  awsAccountId?: string | number;
  region?: string;
  automationRoleName?: string;
  centralAccountId?: string | number;
  stateBucket?: string;
}
