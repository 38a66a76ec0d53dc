import PgBoss from 'pg-boss';
import { PodlineError } from '@podline/config';

/** The environment variable holding the queue's connection string. A secret: never printed, logged or stored. */
export const QUEUE_URL_ENV = 'PODLINE_QUEUE_URL';

/** The PostgreSQL schema pg-boss keeps its tables in. */
export const QUEUE_SCHEMA = 'pgboss';

/** The schema version this pg-boss (10.x) creates and expects. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const QUEUE_SCHEMA_VERSION: number = require('pg-boss/version.json').schema;

/** A queue problem: the message names the host (never the password or the connection string), the fix says what to do. */
export class QueueError extends PodlineError {
  /** The problem alone; `message` also carries the fix, for callers that print only messages. */
  readonly problem: string;
  constructor(problem: string, fix?: string) {
    super(fix ? `${problem} — ${fix}` : problem, { fix });
    this.problem = problem;
  }
}

/** "host:port/database" of a connection string, for messages: no user, no password, no parameters. */
export function describeQueue(url: string): string {
  try {
    const u = new URL(url);
    const db = u.pathname.replace(/^\//, '');
    return `${u.hostname}${u.port ? `:${u.port}` : ''}${db ? `/${db}` : ''}`;
  } catch {
    return 'the PostgreSQL server in PODLINE_QUEUE_URL';
  }
}

/** Remove the connection string and its password from a text (errors of the driver may echo parts of it). */
export function redact(text: string, url: string | undefined): string {
  if (!url) return text;
  let out = text.split(url).join('<PODLINE_QUEUE_URL>');
  try {
    const u = new URL(url);
    const secrets = [u.password, decodeURIComponent(u.password)].filter((s) => s.length >= 3);
    for (const s of secrets) out = out.split(s).join('***');
  } catch {
    /* not a URL: nothing more to hide */
  }
  return out;
}

/** The connection string from the environment; a clear error when queue mode is asked for without one. */
export function queueUrl(env: NodeJS.ProcessEnv = process.env, who = 'this run'): string {
  const url = env[QUEUE_URL_ENV];
  if (!url) {
    throw new QueueError(
      `${who} needs the transcription queue, but ${QUEUE_URL_ENV} is not set`,
      `set ${QUEUE_URL_ENV}=postgres://<user>:<password>@<host>:5432/<database> in the environment of every coordinator and worker (see "Scaling out" in the README)`,
    );
  }
  if (!/^postgres(ql)?:\/\//.test(url)) {
    throw new QueueError(`${QUEUE_URL_ENV} is not a postgres:// connection string`, 'write it as postgres://<user>:<password>@<host>:5432/<database>');
  }
  return url;
}

/** Turn a connection or driver failure into a QueueError naming the host only. */
export function explainQueueError(err: unknown, url: string, doing: string): QueueError {
  if (err instanceof QueueError) return err;
  const where = describeQueue(url);
  const e = err as { code?: string; message?: string };
  const code = e?.code ?? '';
  const detail = redact(e?.message ?? String(err), url);
  if (['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ECONNRESET', 'ENETUNREACH'].includes(code) || /timeout|terminated|connect/i.test(detail)) {
    return new QueueError(
      `the transcription queue at ${where} is unreachable while trying to ${doing} (${code || detail})`,
      `start PostgreSQL there or correct the host in ${QUEUE_URL_ENV}; sites in local transcription mode are not affected`,
    );
  }
  if (code === '28P01' || code === '28000') {
    return new QueueError(`the transcription queue at ${where} refused the login while trying to ${doing}`, `check the user and password in ${QUEUE_URL_ENV}`);
  }
  if (code === '3D000') {
    return new QueueError(`the transcription queue at ${where}: the database does not exist`, `create it (createdb) or correct the database name in ${QUEUE_URL_ENV}`);
  }
  if (code === '42501') {
    return new QueueError(`the transcription queue at ${where}: permission denied while trying to ${doing} (${detail})`, `grant the user in ${QUEUE_URL_ENV} the right to create the "${QUEUE_SCHEMA}" schema, or create it once as an owner`);
  }
  return new QueueError(`the transcription queue at ${where} failed while trying to ${doing}: ${detail}`);
}

export interface QueueConnection {
  boss: PgBoss;
  url: string;
  /** host:port/database, for messages. */
  where: string;
  /** Run SQL on pg-boss's connection pool. */
  sql<T = Record<string, unknown>>(text: string, values?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

export interface ConnectOptions {
  /** Workers supervise (expire jobs of dead workers, archive); a short-lived coordinator need not. */
  supervise?: boolean;
  /** How often a supervising instance expires and archives jobs (default 60 s; PODLINE_QUEUE_MAINTENANCE_SECONDS). */
  maintenanceIntervalSeconds?: number;
  /** Connections in the pool (default 4). */
  max?: number;
  env?: NodeJS.ProcessEnv;
  /** Where pg-boss's background errors go (already redacted). */
  onError?: (message: string) => void;
}

/**
 * Connect to the queue: creates or migrates pg-boss's schema on first use, and refuses a schema newer than
 * this Podline's pg-boss (another machine runs a newer Podline). Every error names the host, never the secret.
 */
export async function connectQueue(url: string, options: ConnectOptions = {}): Promise<QueueConnection> {
  const env = options.env ?? process.env;
  const where = describeQueue(url);
  const maintenance = options.maintenanceIntervalSeconds ?? (Number(env.PODLINE_QUEUE_MAINTENANCE_SECONDS) || 60);
  const boss = new PgBoss({
    connectionString: url,
    schema: QUEUE_SCHEMA,
    max: options.max ?? 4,
    supervise: options.supervise ?? false,
    schedule: false,
    migrate: true,
    maintenanceIntervalSeconds: maintenance,
    connectionTimeoutMillis: 10_000,
    application_name: 'podline',
  } as PgBoss.ConstructorOptions);
  boss.on('error', (err: Error) => options.onError?.(explainQueueError(err, url, 'maintain the queue').message));
  // A newer schema than ours would be "migrated" by nothing and half-understood: check before pg-boss starts.
  const probe = boss.getDb() as unknown as { executeSql(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }> };
  try {
    await boss.start();
  } catch (err) {
    await boss.stop({ graceful: false, wait: true }).catch(() => undefined);
    throw explainQueueError(err, url, 'connect');
  }
  try {
    const version = (await boss.schemaVersion()) as number | null;
    if (version !== null && version !== QUEUE_SCHEMA_VERSION) {
      throw new QueueError(
        `the transcription queue at ${where} has job tables of version ${version}; this Podline's pg-boss works with version ${QUEUE_SCHEMA_VERSION}`,
        version > QUEUE_SCHEMA_VERSION
          ? 'a newer Podline created them: update this checkout (git pull && npm ci) so every coordinator and worker runs the same version'
          : 'run this Podline once as the only user of the queue to migrate them, or point PODLINE_QUEUE_URL at another database',
      );
    }
  } catch (err) {
    await boss.stop({ graceful: false, wait: true }).catch(() => undefined);
    throw explainQueueError(err, url, 'check the queue schema');
  }
  return {
    boss,
    url,
    where,
    async sql<T>(text: string, values?: unknown[]) {
      try {
        return (await probe.executeSql(text, values)).rows as T[];
      } catch (err) {
        throw explainQueueError(err, url, 'query the queue');
      }
    },
    async close() {
      await boss.stop({ graceful: false, wait: true, close: true }).catch(() => undefined);
    },
  };
}
