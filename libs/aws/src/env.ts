import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseEnvFile } from '@podline/config';

/** The central automation settings: credentials (or the default chain), region and endpoint overrides. */
export interface AutomationConfig {
  /** Static central credentials; undefined means the SDK's default credential chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  region?: string;
  endpoints: { sts?: string; lambda?: string; s3?: string };
  /** Where the settings came from (for messages; never the values). */
  source: string;
}

export const AUTOMATION_ENV_FILE = '.env.automation';


/**
 * The automation config: `.env.automation` at the workspace root (gitignored; see .env.automation.template),
 * with the process environment taking precedence key by key. Without keys in either, the default chain is used.
 */
export function loadAutomationConfig(workspaceRoot: string, env: NodeJS.ProcessEnv = process.env): AutomationConfig {
  const file = path.join(workspaceRoot, AUTOMATION_ENV_FILE);
  let fromFile: Record<string, string> = {};
  try {
    fromFile = parseEnvFile(readFileSync(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cannot read ${AUTOMATION_ENV_FILE}: ${(err as Error).message}`);
  }
  const get = (key: string) => env[key] || fromFile[key] || undefined;
  const accessKeyId = get('AWS_ACCESS_KEY_ID');
  const secretAccessKey = get('AWS_SECRET_ACCESS_KEY');
  if (!!accessKeyId !== !!secretAccessKey) {
    throw new Error(`${AUTOMATION_ENV_FILE} (or the environment) sets only one of AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY: set both, or neither to use the default credential chain`);
  }
  return {
    credentials: accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey, sessionToken: get('AWS_SESSION_TOKEN') } : undefined,
    region: get('AWS_REGION') ?? get('AWS_DEFAULT_REGION'),
    endpoints: { sts: get('PODLINE_STS_ENDPOINT'), lambda: get('PODLINE_LAMBDA_ENDPOINT'), s3: get('PODLINE_S3_ENDPOINT') },
    source: accessKeyId ? (env.AWS_ACCESS_KEY_ID ? 'the environment' : AUTOMATION_ENV_FILE) : 'the default credential chain',
  };
}
