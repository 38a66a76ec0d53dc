import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { regionFor, type SiteConfig } from '@podline/config';
import type { AutomationConfig } from './env';
import { AwsSiteError, describeSdkError } from './errors';
import { requireRoleArn, type AwsCredentialIdentityProvider } from './sessions';

export const INVOCATION_TYPES = ['RequestResponse', 'Event'] as const;
export type InvocationType = (typeof INVOCATION_TYPES)[number];
/** Request-response: wait for the function and report its answer. */
export const DEFAULT_INVOCATION_TYPE: InvocationType = 'RequestResponse';
/** The index executor's `invocationType` default: whatever the site config says. */
export const SITE_INVOCATION = 'site';

/** How to invoke a site's indexing function: the run's choice, else the site config's, else request-response. */
export function resolveInvocationType(site: Pick<SiteConfig, 'index'>, requested?: InvocationType | typeof SITE_INVOCATION): InvocationType {
  if (requested && requested !== SITE_INVOCATION) return requested;
  return (site.index.kind === 'lambda' ? site.index.invocationType : undefined) ?? DEFAULT_INVOCATION_TYPE;
}

export interface InvokeOptions {
  /** The site; its region is config's `siteRegion` (aws.region, else the bucket's), as Terraform deploys it. */
  site: Pick<SiteConfig, 'id' | 'aws' | 'configFile'> & Partial<Pick<SiteConfig, 'storage'>>;
  functionName: string;
  payload: unknown;
  invocationType?: InvocationType;
  credentials: AwsCredentialIdentityProvider;
  config: AutomationConfig;
}

export interface InvokeResult {
  statusCode: number;
  /** The function's response (RequestResponse only), parsed as JSON when it is JSON. */
  response?: unknown;
}

function parsePayload(bytes: Uint8Array | undefined): unknown {
  if (!bytes?.length) return undefined;
  const text = Buffer.from(bytes).toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * Invoke a site's function with the site's credentials: request-response by default (waits, returns the
 * response), or Event (queued, returns at once). A FunctionError is a failure carrying the function's own message.
 */
export async function invokeSiteFunction(opts: InvokeOptions): Promise<InvokeResult> {
  const { site, functionName, config } = opts;
  const invocationType = opts.invocationType ?? DEFAULT_INVOCATION_TYPE;
  const region = regionFor(site, config.region);
  const client = new LambdaClient({ region, endpoint: config.endpoints.lambda, credentials: opts.credentials });
  try {
    let out;
    try {
      out = await client.send(
        new InvokeCommand({
          FunctionName: functionName,
          InvocationType: invocationType,
          Payload: Buffer.from(JSON.stringify(opts.payload ?? {})),
        }),
      );
    } catch (err) {
      if (err instanceof AwsSiteError) throw err; // from the credentials provider (STS)
      const { code, message } = describeSdkError(err);
      const roleArn = requireRoleArn(site);
      const where = `account ${site.aws?.accountId}, region ${region}`;
      if (code === 'ResourceNotFoundException') {
        throw new AwsSiteError(
          site.id,
          `site ${site.id}: Lambda function ${functionName} not found (${where})`,
          `deploy the indexing function, or correct index.functionName (and aws.region) in ${site.configFile ?? `sites/${site.id}/site.config.json`}`,
          code,
        );
      }
      if (code === 'AccessDeniedException') {
        throw new AwsSiteError(site.id, `site ${site.id}: role ${roleArn} may not invoke ${functionName}: ${message}`, `grant lambda:InvokeFunction on ${functionName} to ${roleArn}`, code);
      }
      throw new AwsSiteError(site.id, `site ${site.id}: invoking ${functionName} failed: ${code}: ${message}`, `check the function and the Lambda endpoint (${where})`, code);
    }
    const response = parsePayload(out.Payload);
    if (out.FunctionError) {
      const r = response as { errorMessage?: string; errorType?: string } | string | undefined;
      const detail = typeof r === 'object' && r ? `${r.errorType ? `${r.errorType}: ` : ''}${r.errorMessage ?? JSON.stringify(r)}` : String(r ?? out.FunctionError);
      throw new AwsSiteError(
        site.id,
        `site ${site.id}: function ${functionName} failed (${out.FunctionError}): ${detail}`,
        `see the function's logs (CloudWatch) for ${functionName}; fix the cause and run index again (--force)`,
        'FunctionError',
      );
    }
    return { statusCode: out.StatusCode ?? 0, response };
  } finally {
    client.destroy();
  }
}
