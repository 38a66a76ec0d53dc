export interface Schema {
  dryRun?: boolean;
  verbose?: boolean;
  folders?: string[];
  concurrency?: number;
  conflict?: 'skip-existing' | 'overwrite-if-newer' | 'overwrite-always';
  multipartThresholdMB?: number;
  retries?: number;
}
