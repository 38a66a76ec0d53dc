export interface Schema {
  dryRun?: boolean;
  verbose?: boolean;
  invocationType?: 'site' | 'RequestResponse' | 'Event';
  force?: boolean;
}
