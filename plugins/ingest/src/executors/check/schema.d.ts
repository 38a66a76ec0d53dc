export interface Schema {
  dryRun?: boolean;
  verbose?: boolean;
}
