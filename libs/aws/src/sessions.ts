import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { automationRoleArn, regionFor, type SiteConfig } from '@podline/config';
import type { AutomationConfig } from './env';
import { AwsSiteError, describeSdkError } from './errors';

/** Temporary credentials, shaped as every AWS SDK v3 client accepts them. */
export interface AwsCredentialIdentity {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}
/** What SDK clients take as `credentials`: called whenever they need (fresh) credentials. */
export type AwsCredentialIdentityProvider = () => Promise<AwsCredentialIdentity>;

/** Refresh a session this long before it expires. */
const REFRESH_MARGIN_MS = 5 * 60_000;

/**
 * Assumed-role sessions of one run, by role ARN: sites sharing an account (and role) assume it once.
 * Concurrent requests for the same role share one AssumeRole call.
 */
export class SessionCache {
  private readonly sessions = new Map<string, Promise<AwsCredentialIdentity>>();
  /** AssumeRole calls actually made (for reports and tests). */
  assumed = 0;

  get(roleArn: string, assume: () => Promise<AwsCredentialIdentity>): Promise<AwsCredentialIdentity> {
    const cached = this.sessions.get(roleArn);
    if (cached) {
      return cached.then((c) => (c.expiration && c.expiration.getTime() - REFRESH_MARGIN_MS < Date.now() ? this.renew(roleArn, assume) : c));
    }
    return this.renew(roleArn, assume);
  }

  private renew(roleArn: string, assume: () => Promise<AwsCredentialIdentity>): Promise<AwsCredentialIdentity> {
    this.assumed++;
    const p = assume();
    this.sessions.set(roleArn, p);
    p.catch(() => this.sessions.delete(roleArn)); // a failure is not cached: the next site may retry
    return p;
  }
}

const CACHE_KEY = 'podline:aws-session-cache';

/** The run's session cache, kept in any Map shared across the sites of one run. */
export function sessionCacheIn(shared: Map<string, unknown>): SessionCache {
  let cache = shared.get(CACHE_KEY) as SessionCache | undefined;
  if (!cache) shared.set(CACHE_KEY, (cache = new SessionCache()));
  return cache;
}

/** The site's automation role ARN, or a clear error when the site config has no `aws` section. */
export function requireRoleArn(site: Pick<SiteConfig, 'id' | 'aws' | 'configFile'>): string {
  const arn = automationRoleArn(site);
  if (!arn) {
    throw new AwsSiteError(site.id, `site ${site.id} has no AWS account configured`, `add "aws": { "accountId": "<12 digits>" } to ${site.configFile ?? `sites/${site.id}/site.config.json`}`);
  }
  return arn;
}

/** A valid RoleSessionName ([\w+=,.@-], 2–64 chars) naming the site. */
function sessionName(siteId: string): string {
  return `podline-${siteId}`.replace(/[^\w+=,.@-]/g, '-').slice(0, 64);
}

/** Assume the site's automation role with the central credentials. */
async function assumeSiteRole(site: Pick<SiteConfig, 'id' | 'aws' | 'configFile'>, roleArn: string, config: AutomationConfig): Promise<AwsCredentialIdentity> {
  const sts = new STSClient({ region: config.region ?? regionFor(site), endpoint: config.endpoints.sts, credentials: config.credentials });
  try {
    const out = await sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: sessionName(site.id), DurationSeconds: 3600 }));
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error('STS returned no credentials');
    return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, expiration: c.Expiration };
  } catch (err) {
    const { code, message } = describeSdkError(err);
    const fix =
      code === 'AccessDenied'
        ? `allow the automation identity (${config.source}) sts:AssumeRole on ${roleArn}, and trust it in that role's trust policy (infra/)`
        : `check the automation credentials in ${config.source} and that STS is reachable${config.endpoints.sts ? ` at ${config.endpoints.sts}` : ''}`;
    throw new AwsSiteError(site.id, `site ${site.id}: cannot assume role ${roleArn}: ${code}: ${message}`, fix, code);
  } finally {
    sts.destroy();
  }
}

/**
 * A credentials provider for a site's AWS account: its automation role, assumed once per run (cache) and
 * renewed before expiry. Hand it to any SDK client (S3, Lambda…) as `credentials`.
 */
export function siteCredentialsProvider(
  site: Pick<SiteConfig, 'id' | 'aws' | 'configFile'>,
  config: AutomationConfig,
  cache: SessionCache = new SessionCache(),
): AwsCredentialIdentityProvider {
  const roleArn = requireRoleArn(site);
  return () => cache.get(roleArn, () => assumeSiteRole(site, roleArn, config));
}
