import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { siteRegion } from '@podline/config';
import { startLambdaServer, startStsServer, type LambdaServer, type StsServer } from '@podline/testing/aws-endpoints';
import { parseEnvFile } from '@podline/config';
import { loadAutomationConfig, type AutomationConfig } from './env';
import { AwsSiteError } from './errors';
import { invokeSiteFunction } from './lambda';
import { SessionCache, sessionCacheIn, siteCredentialsProvider } from './sessions';

const site = (id: string, accountId: string) => ({ id, aws: { accountId, automationRoleName: 'podline-automation', region: 'eu-west-1' }, configFile: `sites/${id}/site.config.json` });

describe('automation config', () => {
  it('parses dotenv text', () => {
    expect(parseEnvFile('# c\nexport A=1\nB = "two words"\nC=\'x#y\'\nD=3 # note\nbad line\n')).toEqual({ A: '1', B: 'two words', C: 'x#y', D: '3' });
  });

  it('reads .env.automation, the environment wins key by key, and never needs the file', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'podline-aws-'));
    try {
      expect(loadAutomationConfig(dir, {})).toEqual({ credentials: undefined, region: undefined, endpoints: {}, source: 'the default credential chain' });
      writeFileSync(path.join(dir, '.env.automation'), 'AWS_ACCESS_KEY_ID=AKIAFILE\nAWS_SECRET_ACCESS_KEY=s3cret\nAWS_REGION=eu-central-1\nPODLINE_STS_ENDPOINT=http://127.0.0.1:1\n');
      const cfg = loadAutomationConfig(dir, { AWS_REGION: 'us-west-2' });
      expect(cfg.credentials).toEqual({ accessKeyId: 'AKIAFILE', secretAccessKey: 's3cret', sessionToken: undefined });
      expect(cfg.region).toBe('us-west-2');
      expect(cfg.endpoints.sts).toBe('http://127.0.0.1:1');
      expect(cfg.source).toBe('.env.automation');
      writeFileSync(path.join(dir, '.env.automation'), 'AWS_ACCESS_KEY_ID=AKIAFILE\n');
      expect(() => loadAutomationConfig(dir, {})).toThrow(/only one of AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('STS sessions and Lambda invoke through the real SDK clients (loopback endpoints)', () => {
  let sts: StsServer;
  let lambda: LambdaServer;
  let config: AutomationConfig;
  const denied = 'arn:aws:iam::333333333333:role/podline-automation';

  beforeAll(async () => {
    sts = await startStsServer({ deniedRoles: [denied] });
    lambda = await startLambdaServer({
      functions: {
        'index-ok': (payload) => ({ echoed: payload, ok: true }),
        'index-broken': () => {
          throw Object.assign(new Error('episode x.srt: bad timing line'), { name: 'IndexError' });
        },
        'index-private': () => 'never',
      },
      authorize: (call) => call.functionName !== 'index-private',
    });
    config = { credentials: { accessKeyId: 'AKIACENTRAL', secretAccessKey: 'central-secret' }, region: 'us-east-1', endpoints: { sts: sts.url, lambda: lambda.url }, source: 'test' };
  });
  afterAll(async () => {
    await sts.close();
    await lambda.close();
  });
  beforeEach(() => {
    sts.calls.length = 0;
    lambda.calls.length = 0;
  });

  it('assumes the site role with the central credentials, once per role per run', async () => {
    const cache = sessionCacheIn(new Map());
    const a = await siteCredentialsProvider(site('a', '111111111111'), config, cache)();
    const b = await siteCredentialsProvider(site('b', '111111111111'), config, cache)();
    const c = await siteCredentialsProvider(site('c', '222222222222'), config, cache)();
    expect(sts.calls).toEqual([
      { callerAccessKeyId: 'AKIACENTRAL', roleArn: 'arn:aws:iam::111111111111:role/podline-automation', roleSessionName: 'podline-a' },
      { callerAccessKeyId: 'AKIACENTRAL', roleArn: 'arn:aws:iam::222222222222:role/podline-automation', roleSessionName: 'podline-c' },
    ]);
    expect(a.accessKeyId).toBe(sts.accessKeyFor('arn:aws:iam::111111111111:role/podline-automation'));
    expect(b).toEqual(a);
    expect(c.accessKeyId).not.toBe(a.accessKeyId);
    expect(cache.assumed).toBe(2);
  });

  it('invokes request-response with the assumed role and returns the response', async () => {
    const s = site('a', '111111111111');
    const credentials = siteCredentialsProvider(s, config, new SessionCache());
    const out = await invokeSiteFunction({ site: s, functionName: 'index-ok', payload: { site: 'a' }, credentials, config });
    expect(out).toEqual({ statusCode: 200, response: { echoed: { site: 'a' }, ok: true } });
    expect(lambda.calls).toEqual([
      { functionName: 'index-ok', invocationType: 'RequestResponse', accessKeyId: sts.accessKeyFor('arn:aws:iam::111111111111:role/podline-automation'), payload: { site: 'a' } },
    ]);
  });

  it('invokes asynchronously (Event) when asked', async () => {
    const s = site('a', '111111111111');
    const out = await invokeSiteFunction({ site: s, functionName: 'index-ok', payload: {}, invocationType: 'Event', credentials: siteCredentialsProvider(s, config), config });
    expect(out.statusCode).toBe(202);
    expect(lambda.calls.map((c) => c.invocationType)).toEqual(['Event']);
  });

  const failure = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (err) {
      return err as AwsSiteError;
    }
    throw new Error('expected a failure');
  };

  it('a FunctionError fails with the function\'s own message', async () => {
    const s = site('a', '111111111111');
    const err = await failure(invokeSiteFunction({ site: s, functionName: 'index-broken', payload: {}, credentials: siteCredentialsProvider(s, config), config }));
    expect(err).toBeInstanceOf(AwsSiteError);
    expect(err.code).toBe('FunctionError');
    expect(err.message).toBe('site a: function index-broken failed (Unhandled): IndexError: episode x.srt: bad timing line');
  });

  it('a site without aws.region invokes its function in its bucket\'s region, where Terraform deploys it, not AWS_REGION', async () => {
    const s = {
      id: 'b',
      aws: { accountId: '111111111111', automationRoleName: 'podline-automation' },
      storage: { kind: 's3' as const, bucket: 'b-bucket', region: 'ap-southeast-2' },
      configFile: 'sites/b/site.config.json',
    };
    expect(config.region).toBe('us-east-1'); // the automation environment's region disagrees
    expect(siteRegion(s)).toBe('ap-southeast-2'); // what the Terraform check writes as aws_region
    await invokeSiteFunction({ site: s, functionName: 'index-ok', payload: {}, credentials: siteCredentialsProvider(s, config), config });
    expect(lambda.calls.at(-1)?.functionName).toBe('index-ok');
    expect(lambda.signedRegions.at(-1)).toBe('ap-southeast-2');
    const err = await failure(invokeSiteFunction({ site: s, functionName: 'nope', payload: {}, credentials: siteCredentialsProvider(s, config), config }));
    expect(err.message).toBe('site b: Lambda function nope not found (account 111111111111, region ap-southeast-2)');
  });

  it('an unknown function is a clear error naming site, function and the fix', async () => {
    const s = site('a', '111111111111');
    const err = await failure(invokeSiteFunction({ site: s, functionName: 'nope', payload: {}, credentials: siteCredentialsProvider(s, config), config }));
    expect(err.code).toBe('ResourceNotFoundException');
    expect(err.message).toBe('site a: Lambda function nope not found (account 111111111111, region eu-west-1)');
    expect(err.fix).toMatch(/index\.functionName .* sites\/a\/site\.config\.json/);
  });

  it('Lambda AccessDenied names the role and the permission to grant', async () => {
    const s = site('a', '111111111111');
    const err = await failure(invokeSiteFunction({ site: s, functionName: 'index-private', payload: {}, credentials: siteCredentialsProvider(s, config), config }));
    expect(err.code).toBe('AccessDeniedException');
    expect(err.fix).toBe('grant lambda:InvokeFunction on index-private to arn:aws:iam::111111111111:role/podline-automation');
  });

  it('STS AccessDenied is a clear per-site error, never reaches Lambda, and is not cached', async () => {
    const s = site('d', '333333333333');
    const cache = new SessionCache();
    const err = await failure(invokeSiteFunction({ site: s, functionName: 'index-ok', payload: {}, credentials: siteCredentialsProvider(s, config, cache), config }));
    expect(err).toBeInstanceOf(AwsSiteError);
    expect(err.code).toBe('AccessDenied');
    expect(err.message).toContain(`site d: cannot assume role ${denied}: AccessDenied`);
    expect(err.fix).toContain(`sts:AssumeRole on ${denied}`);
    expect(err.message + err.fix).not.toContain('central-secret');
    expect(lambda.calls).toEqual([]);
    await failure(siteCredentialsProvider(s, config, cache)());
    expect(sts.calls).toHaveLength(2);
  });

  it('a site without an aws section gets a clear error', () => {
    expect(() => siteCredentialsProvider({ id: 'x', aws: undefined, configFile: 'sites/x/site.config.json' }, config)).toThrow(/site x has no AWS account configured/);
  });
});
