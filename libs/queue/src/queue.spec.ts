import { freePort, startPostgres, type PostgresTestServer } from '@podline/testing/postgres-server';
import { connectQueue, describeQueue, QueueError, queueUrl, redact } from './connection';
import { ensureQueue } from './coordinator';
import { expirySeconds, jobId, jobKey, leaseSeconds, queueName } from './jobs';
import { handBackDelaySeconds, leaseKeeper } from './worker';
import { formatQueueStatus, queueStatus } from './status';

describe('jobs', () => {
  const parts = { site: 'demo', podcast: 'show', episodeId: 'urn:x?y', audioSha256: 'a'.repeat(64), engine: 'whisper', model: 'base.en' };
  it('keys the work, and derives a stable UUID from the key', () => {
    const key = jobKey(parts);
    expect(key).toMatch(/^demo\/show\/[0-9a-f]{16}\/a{64}\/whisper\/base\.en$/);
    expect(jobId(key)).toBe(jobId(jobKey({ ...parts })));
    expect(jobId(key)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(jobId(jobKey({ ...parts, model: 'small.en' }))).not.toBe(jobId(key));
    expect(jobId(jobKey({ ...parts, audioSha256: 'b'.repeat(64) }))).not.toBe(jobId(key));
  });
  it('names a queue per model, safely', () => {
    expect(queueName('base.en')).toBe('transcribe.base.en');
    expect(queueName('/models/my model.bin')).toBe('transcribe._models_my_model.bin');
  });
  it('derives the expiry from the audio length', () => {
    expect(expirySeconds(3600, {})).toBe(600 + 7200);
    expect(expirySeconds(60, { PODLINE_QUEUE_EXPIRY_BASE_SECONDS: '10', PODLINE_QUEUE_EXPIRY_FACTOR: '1' })).toBe(70);
    expect(expirySeconds(undefined, {})).toBe(600 + 2 * 3 * 3600);
    expect(expirySeconds(100 * 3600, {})).toBe(23 * 3600);
    expect(leaseSeconds({})).toBe(600);
    expect(leaseSeconds({ PODLINE_QUEUE_EXPIRY_BASE_SECONDS: '30' })).toBe(30);
    expect([handBackDelaySeconds({}), handBackDelaySeconds({ PODLINE_QUEUE_HANDBACK_DELAY_SECONDS: '1' }), handBackDelaySeconds({ PODLINE_QUEUE_HANDBACK_DELAY_SECONDS: 'soon' })]).toEqual([60, 1, 60]);
  });
});

describe('connection', () => {
  it('names the host, never the password', () => {
    const url = 'postgres://user:p%40ss-word@db.example.com:6543/queue?sslmode=require';
    expect(describeQueue(url)).toBe('db.example.com:6543/queue');
    expect(redact(`failed: ${url} and p@ss-word`, url)).toBe('failed: <PODLINE_QUEUE_URL> and ***');
  });
  it('says how to set the variable when it is missing or wrong', () => {
    expect(() => queueUrl({}, 'site demo')).toThrow(/site demo needs the transcription queue, but PODLINE_QUEUE_URL is not set — set PODLINE_QUEUE_URL=postgres:/);
    expect(() => queueUrl({ PODLINE_QUEUE_URL: 'mysql://x' })).toThrow(QueueError);
  });
});

describe('against a real PostgreSQL', () => {
  let pg: PostgresTestServer;
  beforeAll(async () => {
    pg = await startPostgres();
  }, 120_000);
  afterAll(() => pg?.stop());

  it('an unreachable server names host and port', async () => {
    const port = await freePort();
    const err = await connectQueue(`postgres://u:secret-pw@127.0.0.1:${port}/db`).catch((e) => e);
    expect(err).toBeInstanceOf(QueueError);
    expect(err.message).toMatch(new RegExp(`queue at 127\\.0\\.0\\.1:${port}/db is unreachable`));
    expect(err.message).not.toContain('secret-pw');
  });

  it('a wrong password is a login refusal, without the password', async () => {
    const url = pg.url.replace(pg.password, 'wrong-password');
    const err = await connectQueue(url).catch((e) => e);
    expect(err.message).toBe(`the transcription queue at 127.0.0.1:${pg.port}/podline refused the login while trying to connect — check the user and password in PODLINE_QUEUE_URL`);
  });

  it('a live worker keeps renewing its job past the expiry it was given; once it stops, the job expires', async () => {
    const conn = await connectQueue(pg.url);
    try {
      await ensureQueue(conn, 'transcribe.lease');
      const id = await conn.boss.send('transcribe.lease', {}, { expireInSeconds: 2 });
      const [job] = await conn.boss.fetch('transcribe.lease');
      expect(job.id).toBe(id);
      await conn.sql(`UPDATE pgboss.job SET output = '{"worker":"w:1"}'::jsonb WHERE id = $1::uuid`, [id]);
      const overdue = async () => (await conn.sql<{ over: boolean }>(`SELECT started_on + expire_in < now() AS over FROM pgboss.job WHERE id = $1::uuid`, [id]))[0].over;
      const keeper = leaseKeeper(conn, 'transcribe.lease', id!, 'w:1', { PODLINE_QUEUE_EXPIRY_BASE_SECONDS: '3' }, (m) => {
        throw new Error(m);
      });
      keeper.start();
      // Three times its own expiry, still held: pg-boss's expiry would not touch it.
      await new Promise((r) => setTimeout(r, 6000));
      expect(await overdue()).toBe(false);
      await keeper.stop();
      // Another worker's name on the job: not renewed by this one (a job that expired and was taken again).
      const other = leaseKeeper(conn, 'transcribe.lease', id!, 'w:2', { PODLINE_QUEUE_EXPIRY_BASE_SECONDS: '30' }, () => undefined);
      other.start();
      await new Promise((r) => setTimeout(r, 4500));
      await other.stop();
      expect(await overdue()).toBe(true);
      await conn.sql(`DELETE FROM pgboss.job WHERE name = 'transcribe.lease'`);
      await conn.boss.deleteQueue('transcribe.lease');
    } finally {
      await conn.close();
    }
  }, 60_000);

  it('creates its schema once, refuses a schema of another version, and reports an empty queue', async () => {
    const conn = await connectQueue(pg.url);
    try {
      await Promise.all([ensureQueue(conn, 'transcribe.x'), ensureQueue(conn, 'transcribe.x')]);
      expect(formatQueueStatus(await queueStatus(conn))).toEqual([`Transcription queue at 127.0.0.1:${pg.port}/podline`, 'no jobs']);
      await conn.sql(`UPDATE pgboss.version SET version = version + 1`);
      const err = await connectQueue(pg.url).catch((e) => e);
      expect(err.message).toMatch(/has job tables of version \d+; this Podline's pg-boss works with version \d+ — a newer Podline created them: update this checkout/);
      await conn.sql(`UPDATE pgboss.version SET version = version - 1`);
    } finally {
      await conn.close();
    }
  });
});
