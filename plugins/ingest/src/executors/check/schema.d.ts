export interface Schema {
  dryRun?: boolean;
  verbose?: boolean;
  folders?: string[];
  retries?: number;
}
