import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Small real HTTP servers on 127.0.0.1 speaking just enough of the STS query API (AssumeRole) and the Lambda
 * REST API (Invoke) for the real AWS SDK clients to talk to them through endpoint overrides.
 * They record every call (with the access key id from the SigV4 Authorization header) so tests can check which
 * credentials reached which service. Signatures are not verified.
 */

export interface LoopbackServer {
  /** http://127.0.0.1:<port> */
  url: string;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** The access key id of a SigV4-signed request, or undefined when unsigned. */
export function accessKeyOf(req: IncomingMessage): string | undefined {
  return /Credential=([^/,\s]+)\//.exec(String(req.headers.authorization ?? ''))?.[1];
}

/** The region a SigV4-signed request was signed for (its credential scope), or undefined when unsigned. */
export function signedRegionOf(req: IncomingMessage): string | undefined {
  return /Credential=[^/,\s]+\/\d{8}\/([^/,\s]+)\//.exec(String(req.headers.authorization ?? ''))?.[1];
}

async function listen(handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>): Promise<LoopbackServer> {
  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      res.statusCode = 500;
      res.end(String((err as Error)?.message ?? err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

// ---------------------------------------------------------------- STS

export interface AssumeRoleCall {
  /** Access key id that signed the call (the central automation credentials). */
  callerAccessKeyId?: string;
  roleArn: string;
  roleSessionName: string;
}

export interface StsServerOptions {
  /** Role ARNs the caller may not assume: answered with AccessDenied (403), as STS does. */
  deniedRoles?: string[];
}

export interface StsServer extends LoopbackServer {
  calls: AssumeRoleCall[];
  /** The temporary access key id handed out for a role (deterministic per role ARN). */
  accessKeyFor(roleArn: string): string;
}

const keyFor = (roleArn: string) => 'ASIA' + createHash('sha256').update(roleArn).digest('hex').slice(0, 16).toUpperCase();

export async function startStsServer(options: StsServerOptions = {}): Promise<StsServer> {
  const calls: AssumeRoleCall[] = [];
  const denied = new Set(options.deniedRoles ?? []);
  const server = await listen(async (req, res) => {
    const params = new URLSearchParams(await readBody(req));
    res.setHeader('content-type', 'text/xml');
    if (req.method !== 'POST' || params.get('Action') !== 'AssumeRole') {
      res.statusCode = 400;
      res.end(
        `<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>only AssumeRole is served here</Message></Error><RequestId>loopback</RequestId></ErrorResponse>`,
      );
      return;
    }
    const call: AssumeRoleCall = {
      callerAccessKeyId: accessKeyOf(req),
      roleArn: params.get('RoleArn') ?? '',
      roleSessionName: params.get('RoleSessionName') ?? '',
    };
    calls.push(call);
    if (denied.has(call.roleArn)) {
      res.statusCode = 403;
      res.end(
        `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>AccessDenied</Code>` +
          `<Message>User: arn:aws:iam::000000000000:user/automation is not authorized to perform: sts:AssumeRole on resource: ${xmlEscape(call.roleArn)}</Message>` +
          `</Error><RequestId>loopback</RequestId></ErrorResponse>`,
      );
      return;
    }
    const expiration = new Date(Date.now() + 3600_000).toISOString();
    const key = keyFor(call.roleArn);
    res.end(
      `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>` +
        `<Credentials><AccessKeyId>${key}</AccessKeyId><SecretAccessKey>secret-${key}</SecretAccessKey>` +
        `<SessionToken>token-${key}</SessionToken><Expiration>${expiration}</Expiration></Credentials>` +
        `<AssumedRoleUser><Arn>${xmlEscape(call.roleArn.replace(':iam::', ':sts::').replace(':role/', ':assumed-role/'))}/${xmlEscape(call.roleSessionName)}</Arn>` +
        `<AssumedRoleId>AROALOOPBACK:${xmlEscape(call.roleSessionName)}</AssumedRoleId></AssumedRoleUser>` +
        `</AssumeRoleResult><ResponseMetadata><RequestId>loopback</RequestId></ResponseMetadata></AssumeRoleResponse>`,
    );
  });
  return { ...server, calls, accessKeyFor: keyFor };
}

// ---------------------------------------------------------------- Lambda

export interface InvokeCall {
  functionName: string;
  invocationType: string;
  accessKeyId?: string;
  payload: unknown;
}

/** A function's behaviour: return the response payload, or throw to answer with a FunctionError. */
export type LoopbackFunction = (payload: unknown, call: InvokeCall) => unknown | Promise<unknown>;

export interface LambdaServerOptions {
  functions: Record<string, LoopbackFunction>;
  /** Return false to answer AccessDeniedException (403) for this call. */
  authorize?: (call: InvokeCall) => boolean;
}

export interface LambdaServer extends LoopbackServer {
  calls: InvokeCall[];
  /** Per request, in order: the region the client signed for (where the SDK believed the function lives). */
  signedRegions: Array<string | undefined>;
}

export async function startLambdaServer(options: LambdaServerOptions): Promise<LambdaServer> {
  const calls: InvokeCall[] = [];
  const signedRegions: Array<string | undefined> = [];
  const server = await listen(async (req, res) => {
    const body = await readBody(req);
    const m = /^\/2015-03-31\/functions\/([^/]+)\/invocations/.exec(req.url ?? '');
    const error = (status: number, type: string, message: string) => {
      res.statusCode = status;
      res.setHeader('x-amzn-errortype', type);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ Type: 'User', message }));
    };
    if (req.method !== 'POST' || !m) return error(400, 'InvalidRequestContentException', 'only Invoke is served here');
    const functionName = decodeURIComponent(m[1]);
    let payload: unknown;
    try {
      payload = body ? JSON.parse(body) : undefined;
    } catch {
      return error(400, 'InvalidRequestContentException', 'Could not parse request body into json');
    }
    const call: InvokeCall = {
      functionName,
      invocationType: String(req.headers['x-amz-invocation-type'] ?? 'RequestResponse'),
      accessKeyId: accessKeyOf(req),
      payload,
    };
    calls.push(call);
    signedRegions.push(signedRegionOf(req));
    const fn = options.functions[functionName];
    if (!fn) return error(404, 'ResourceNotFoundException', `Function not found: arn:aws:lambda:us-east-1:000000000000:function:${functionName}`);
    if (options.authorize && !options.authorize(call)) {
      return error(403, 'AccessDeniedException', `User is not authorized to perform: lambda:InvokeFunction on resource: ${functionName}`);
    }
    res.setHeader('content-type', 'application/json');
    res.setHeader('x-amz-executed-version', '$LATEST');
    if (call.invocationType === 'Event') {
      res.statusCode = 202;
      res.end();
      await Promise.resolve(fn(payload, call)).catch(() => undefined);
      return;
    }
    try {
      const result = await fn(payload, call);
      res.statusCode = 200;
      res.end(JSON.stringify(result ?? null));
    } catch (err) {
      res.statusCode = 200; // Lambda reports function errors in a header, with status 200
      res.setHeader('x-amz-function-error', 'Unhandled');
      res.end(JSON.stringify({ errorType: (err as Error).name || 'Error', errorMessage: (err as Error).message, trace: [] }));
    }
  });
  return { ...server, calls, signedRegions };
}
