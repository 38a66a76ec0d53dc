import type { InvocationType, SITE_INVOCATION } from '@podline/aws';

export interface Schema {
  dryRun?: boolean;
  verbose?: boolean;
  invocationType?: typeof SITE_INVOCATION | InvocationType;
  force?: boolean;
}
