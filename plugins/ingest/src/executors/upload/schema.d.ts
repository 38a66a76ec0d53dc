import type { ConflictMode } from '@podline/config';

export interface Schema {
  dryRun?: boolean;
  verbose?: boolean;
  folders?: string[];
  concurrency?: number;
  conflict?: ConflictMode;
  multipartThresholdMB?: number;
  retries?: number;
}
