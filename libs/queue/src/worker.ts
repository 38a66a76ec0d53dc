import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { clock, findSiteConfigsOnDisk, loadSiteConfig, sha256, sha256File, SitePaths, type SiteConfig } from '@podline/config';
import { StorageError, type StorageBackend } from '@podline/storage';
import { decodeEpisodeAhead, droppedText, EngineError, EngineTools, getEngine, ModelError, timedEngine, transcribeEpisodeAudio, type DecodedAhead, type EngineSettings, type EngineTranscript, type TranscriptionEngine } from '@podline/transcription';
import { connectQueue, QUEUE_SCHEMA, type QueueConnection } from './connection';
import { printable } from './coordinator';
import { leaseSeconds, QUEUE_PREFIX, workerName, type JobOutput, type JobResult, type TranscriptionJob } from './jobs';
import { openSiteBucket } from './site-storage';

export interface WorkerLog {
  info(msg: string): void;
  warn(msg: string): void;
}

export interface WorkerOptions {
  workspaceRoot: string;
  url: string;
  /** Jobs at once (default 1). whisper.cpp does not scale linearly with threads: several 1-2 thread jobs can beat one wide one. */
  concurrency?: number;
  /** Run every job with this engine instead of the one the site asked for (e.g. whisper-cli with a GPU build). */
  engine?: string;
  /** Serve only these models' queues (default: every model this machine has). */
  models?: string[];
  /** Threads per job (default: the cores divided by the concurrency). */
  threads?: number;
  /** When idle, look for work this often (default 1000 ms). */
  pollMs?: number;
  /**
   * Claim the next job and fetch its audio this many seconds before the current job's engine run is
   * expected to end (default 10; at least twice the last fetch); 0: never hold a job ahead.
   */
  prefetchSeconds?: number;
  log: WorkerLog;
  env?: NodeJS.ProcessEnv;
}

export interface WorkerStats {
  done: number;
  failed: number;
  handedBack: number;
}

export interface WorkerHandle {
  /** This worker's name in job outputs and transcript records: host:pid. */
  name: string;
  /**
   * Stop taking jobs. Jobs expected to end within `graceSeconds` finish; the others (and any still
   * running when the grace period ends) go back to the queue without using up an attempt.
   */
  stop(graceSeconds?: number): void;
  /** Resolves when every slot has stopped and the connection is closed. */
  finished: Promise<WorkerStats>;
}

interface Running {
  id: string;
  queue: string;
  label: string;
  /** Estimated seconds still to go (from the progress so far), Infinity before any. */
  remaining: () => number;
  handBack: () => void;
}

/**
 * How long a job this worker cannot do (no model, no bucket access, unknown site) waits before any worker
 * takes it again, so that the same worker does not take it straight back: PODLINE_QUEUE_HANDBACK_DELAY_SECONDS
 * (60). A worker that stops hands its jobs back with no delay.
 */
export function handBackDelaySeconds(env: NodeJS.ProcessEnv): number {
  const v = Number(env.PODLINE_QUEUE_HANDBACK_DELAY_SECONDS ?? 60);
  return Number.isFinite(v) && v >= 0 ? v : 60;
}

/** Hand a job back to the queue: no attempt used, available again after `delaySeconds`. */
async function handBackJob(conn: QueueConnection, queue: string, id: string, reason: string, delaySeconds: number): Promise<void> {
  await conn.sql(
    `UPDATE ${QUEUE_SCHEMA}.job SET state = 'created', started_on = NULL, output = $3::jsonb, start_after = now() + $4 * interval '1 second'
     WHERE name = $1 AND id = $2::uuid AND state = 'active'`,
    [queue, id, JSON.stringify({ handedBack: reason }), delaySeconds],
  );
}

class HandedBack extends Error {}

/**
 * pg-boss cannot extend a job's lease, and a job expires at `started_on + expire_in`. So while this worker
 * holds a job it keeps that moment at least `leaseSeconds(env)` ahead (every third of it, at most every
 * 60 s), with one UPDATE on the job row, only while the job is still active and its own. A job slower than
 * its expiry (a big model on a slow machine) is therefore never expired while its worker lives; a worker
 * that dies stops renewing, and its job goes to another worker at the later of its expiry from the audio's
 * length and the last renewal plus the lease.
 */
export function leaseKeeper(conn: QueueConnection, queue: string, id: string, worker: string, env: NodeJS.ProcessEnv, warn: (m: string) => void) {
  const lease = leaseSeconds(env);
  let timer: NodeJS.Timeout | undefined;
  let beating: Promise<unknown> = Promise.resolve();
  const beat = () => {
    beating = conn
      .sql(
        `UPDATE ${QUEUE_SCHEMA}.job SET expire_in = greatest(expire_in, now() - started_on + $4 * interval '1 second')
         WHERE name = $1 AND id = $2::uuid AND state = 'active' AND output->>'worker' = $3`,
        [queue, id, worker, lease],
      )
      .catch((err) => warn(`could not renew its lease (${(err as Error).message}); it may go to another worker if this lasts`));
  };
  return {
    start() {
      timer = setInterval(beat, Math.max(1, Math.min(60, lease / 3)) * 1000);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      return beating;
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));


/**
 * A transcription worker: takes jobs off the shared queue (any site, any machine), streams the audio from
 * the site's bucket, transcribes it, writes the result to the bucket (one object, atomically) and completes
 * the job. A job whose attempt fails (bad audio) is retried by the queue, up to the site's attempts, and
 * then failed with its error kept; a job this machine cannot do (model missing, bucket unreachable, site
 * unknown here) is handed back untouched for another worker. A worker that dies loses its jobs to others
 * once their expiry (from the audio's length) passes.
 */
export async function startWorker(options: WorkerOptions): Promise<WorkerHandle> {
  const env = options.env ?? process.env;
  const log = options.log;
  const name = workerName(os.hostname(), process.pid);
  const concurrency = Math.max(1, options.concurrency ?? 1);
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  const threads = options.threads && options.threads > 0 ? options.threads : Math.max(1, Math.floor(cores / concurrency));
  const pollMs = options.pollMs ?? 1000;
  const prefetchSeconds = options.prefetchSeconds ?? 10;
  const conn = await connectQueue(options.url, { supervise: true, env, max: concurrency + 2, onError: (m) => log.warn(m) });
  const stats: WorkerStats = { done: 0, failed: 0, handedBack: 0 };
  const running = new Map<string, Running>();
  let stopping = false;
  const wakers = new Set<() => void>();

  // Sites by id, from this checkout (reloaded when a job names one we have not seen).
  let sites = new Map<string, SiteConfig>();
  const loadSites = () => {
    const next = new Map<string, SiteConfig>();
    for (const rel of findSiteConfigsOnDisk(options.workspaceRoot)) {
      try {
        const site = loadSiteConfig(path.join(options.workspaceRoot, rel));
        next.set(site.id, site);
      } catch (err) {
        log.warn(`${rel}: ${(err as Error).message.split('\n')[0]} (its jobs are left to other workers)`);
      }
    }
    sites = next;
  };
  loadSites();

  // Queues to serve, refreshed every 10 s while there is work, at every poll while idle (a queue a coordinator
  // just made for a new model is served at once); models found missing here are skipped for 10 minutes.
  let queues: string[] = [];
  let queuesAt = 0;
  const missingUntil = new Map<string, number>();
  const serveQueues = async (idle = false) => {
    if (Date.now() - queuesAt > (idle ? Math.min(pollMs, 10_000) : 10_000)) {
      const all = (await conn.boss.getQueues()).map((q) => q.name).filter((n) => n.startsWith(QUEUE_PREFIX));
      const wanted = options.models?.length ? new Set(options.models.map((m) => `${QUEUE_PREFIX}${m}`)) : undefined;
      queues = all.filter((n) => !wanted || wanted.has(n)).sort();
      queuesAt = Date.now();
    }
    return queues.filter((q) => (missingUntil.get(q) ?? 0) < Date.now());
  };

  const buckets = new Map<string, StorageBackend>();
  // ffmpeg for decoding a job's audio ahead of its turn (the slots' own tools hold their VAD sessions).
  const aheadTools = new EngineTools(env);
  const tmpDir = path.join(os.tmpdir(), `podline-worker-${process.pid}`);
  await fsp.mkdir(tmpDir, { recursive: true });

  /** A job this slot holds: claimed (its lease renewed), its audio being fetched. */
  interface Claimed {
    queue: string;
    id: string;
    job: TranscriptionJob;
    label: string;
    attempt: number;
    attempts: number;
    aborted: Promise<never>;
    heartbeat: ReturnType<typeof leaseKeeper>;
    /** Progress-based estimate of the engine's remaining seconds (Infinity before any progress). */
    estimate: number;
    /** Site, engine, bucket checked and the audio downloaded and checked against its hash. */
    prepared: Promise<Prepared>;
    /** How long `prepared` took (ms), for the next prefetch's lead time. */
    preparedMs?: number;
    released?: boolean;
    /** Its audio being decoded ahead (fixed windows), stopped if it never runs. */
    decoded?: DecodedAhead;
  }

  interface Prepared {
    engine: TranscriptionEngine;
    settings: EngineSettings;
    paths: SitePaths;
    bucket: StorageBackend;
    audioFile: string;
    resultFile: string;
    decoded?: DecodedAhead;
  }

  /** Site, engine and bucket for a job, then its audio from the bucket, checked against the job's hash. */
  async function prepare(c: Claimed): Promise<Prepared> {
    const { job, id, queue } = c;
    let site = sites.get(job.site);
    if (!site) {
      loadSites();
      site = sites.get(job.site);
    }
    if (!site) throw new HandedBack(`site ${job.site} is not in this checkout (sites/**/site.config.json): its jobs are left to other workers; git pull here to serve it`);
    const engineName = options.engine || job.engine;
    let engine: TranscriptionEngine;
    try {
      // The timed engine (fixed cost) is for tests and benchmarks of the queue: workers know it by name.
      engine = engineName === timedEngine.name ? timedEngine : getEngine(engineName);
    } catch (err) {
      throw new HandedBack(`${(err as Error).message} — ${(err as EngineError).fix ?? ''}`);
    }
    const settings: EngineSettings = { workspaceRoot: options.workspaceRoot, model: job.model, language: job.language, prompt: job.prompt, threads, beamSize: 1 };
    try {
      await engine.check(settings);
    } catch (err) {
      if (err instanceof ModelError || err instanceof EngineError) {
        missingUntil.set(queue, Date.now() + 10 * 60_000);
        throw new HandedBack(`${err.message} — ${err.fix ?? ''} (this worker skips model ${job.model} for 10 minutes)`);
      }
      throw err;
    }
    const paths = new SitePaths(site.id, options.workspaceRoot);
    let bucket = buckets.get(site.id);
    if (!bucket) {
      bucket = await openSiteBucket(site, paths, options.workspaceRoot);
      if (!bucket) throw new HandedBack(`site ${site.id} has no bucket in this checkout's config (storage.kind "none")`);
      buckets.set(site.id, bucket);
    }
    const audioFile = path.join(tmpDir, `${id}.audio`);
    const resultFile = path.join(tmpDir, `${id}.json`);
    try {
      await Promise.race([bucket.download({ key: job.audio.key, size: job.audio.size, etag: job.audio.etag, mtimeMs: Date.now() }, audioFile), c.aborted]);
    } catch (err) {
      if (err instanceof HandedBack) throw err;
      if (err instanceof StorageError && err.kind !== 'not-found' && err.kind !== 'other') {
        throw new HandedBack(`the bucket of site ${site.id} is unreachable from this worker: ${err.message}${err.fix ? ` — ${err.fix}` : ''}`);
      }
      throw new Error(`could not get the audio ${job.audio.key} from ${bucket.description}: ${(err as Error).message}`);
    }
    const sha = await sha256File(audioFile);
    if (sha !== job.audio.sha256) {
      throw new Error(
        `the audio in the bucket (${job.audio.key}, sha256 ${sha.slice(0, 12)}…) is not the audio this job was made for (sha256 ${job.audio.sha256.slice(0, 12)}…): the episode's audio changed; the site's next transcribe run enqueues the new one`,
      );
    }
    // Fixed windows (no VAD): ffmpeg decodes the first window now, so the engine starts on it at once when
    // this job's turn comes (with speech windows the VAD reads the file first, on the job's turn).
    if (!job.vad && !c.released) c.decoded = decodeEpisodeAhead(audioFile, job.windowSeconds, aheadTools);
    return { engine, settings, paths, bucket, audioFile, resultFile, decoded: c.decoded };
  }

  /** The same steps as a site's own run: speech windows (VAD) with the site's settings carried in the job, then the engine. */
  async function runEngine(c: Claimed, p: Prepared, tools: EngineTools, progress: (done: number, total: number, ms: number) => void): Promise<EngineTranscript> {
    const total = c.job.durationSeconds ?? 0;
    const run = transcribeEpisodeAudio({
      audio: { file: p.audioFile, sha256: c.job.audio.sha256 },
      engine: p.engine,
      settings: p.settings,
      tools,
      vad: c.job.vad,
      windowSeconds: c.job.windowSeconds,
      decoded: p.decoded,
      // VAD regions are cached per audio hash in this machine's cache of the site.
      cacheDir: p.paths.cacheDir(),
      onProgress: (pr) => progress(pr.doneSeconds, total, pr.elapsedMs),
    });
    // Handed back (SIGTERM): the engine's run is abandoned; its later failure (tools closed) is nobody's.
    run.catch(() => undefined);
    return Promise.race([run, c.aborted]);
  }

  /** The result to the bucket (one object, atomically), then the job completed. */
  async function finish(c: Claimed, p: Prepared, got: EngineTranscript): Promise<void> {
    const { job, queue, id } = c;
    const doc: JobResult = {
      version: 1,
      key: job.key,
      srt: got.srt,
      record: {
        source: p.engine.name,
        engine: p.engine.name,
        model: job.model,
        prompt: job.prompt,
        vad: got.record.vad ?? false,
        ...(got.record.guards ? { guards: got.record.guards } : {}),
        audioSha256: job.audio.sha256,
        transcriptSha256: sha256(got.srt),
        durationSeconds: Math.round(got.durationSeconds * 10) / 10,
        speed: Math.round(got.speed * 100) / 100,
        worker: name,
      },
    };
    await fsp.writeFile(p.resultFile, JSON.stringify(doc));
    const stat = await fsp.stat(p.resultFile);
    // One PUT (S3) or temp file + rename (local folder): a result is there whole or not at all.
    // (No hash-cache flush per job: result objects are outside the synced folders' listing.)
    const entry = await p.bucket.upload({ key: job.resultKey, size: stat.size, mtimeMs: stat.mtimeMs }, p.resultFile);
    const output: JobOutput = { result: { key: job.resultKey, size: stat.size, etag: entry.etag }, worker: name, elapsedMs: got.elapsedMs, durationSeconds: got.durationSeconds };
    await conn.boss.complete(queue, id, output);
    stats.done++;
    const heard = got.speechSeconds !== undefined ? ` (${clock(got.speechSeconds)} of speech heard)` : '';
    const dropped = droppedText(got.guards);
    log.info(
      `${c.label}: ${p.engine.name} ${job.model}, ${clock(got.durationSeconds)} of audio${heard} at ${got.speed.toFixed(1)}× real time${dropped ? `; guards: ${dropped}` : ''} (attempt ${c.attempt}/${c.attempts})`,
    );
  }

  /** A job that did not finish: handed back untouched (this worker cannot do it, or stops) or failed (an attempt used). */
  async function settle(c: Claimed, err: unknown): Promise<void> {
    const message = printable(String((err as Error)?.message ?? err));
    const where = c.label;
    try {
      if (err instanceof HandedBack) {
        stats.handedBack++;
        await handBackJob(conn, c.queue, c.id, message, stopping ? 0 : handBackDelaySeconds(env));
        log.warn(`${where}: handed back to the queue: ${message}`);
      } else {
        stats.failed++;
        await conn.boss.fail(c.queue, c.id, { message, worker: name });
        log.warn(`${where}: attempt ${c.attempt}/${c.attempts} failed: ${message}${c.attempt < c.attempts ? ' (the queue retries it)' : ' (no attempts left: failed)'}`);
      }
    } catch (again) {
      log.warn(`${where}: could not report to the queue (${(again as Error).message}); it returns to the queue when it expires`);
    }
  }

  /** Let go of a job: no more lease renewals, its files removed. */
  async function release(c: Claimed): Promise<void> {
    c.released = true;
    c.decoded?.close();
    running.delete(c.id);
    await c.heartbeat.stop();
    await fsp.rm(path.join(tmpDir, `${c.id}.audio`), { force: true });
    await fsp.rm(path.join(tmpDir, `${c.id}.json`), { force: true });
  }

  /**
   * The next job off the queues this worker serves, claimed: marked with this worker's name, its lease
   * renewed, its audio fetched (started here, awaited by the slot). Undefined when there is none or the
   * worker is stopping.
   */
  async function claimNext(): Promise<Claimed | undefined> {
    if (stopping) return undefined;
    let fetched: { queue: string; id: string; data: TranscriptionJob; retryCount: number; retryLimit: number } | undefined;
    const tried = new Set<string>();
    for (const idle of [false, true]) {
      for (const queue of await serveQueues(idle)) {
        if (tried.has(queue)) continue;
        tried.add(queue);
        const [got] = await conn.boss.fetch<TranscriptionJob>(queue, { batchSize: 1, includeMetadata: true });
        if (got) {
          fetched = { queue, id: got.id, data: got.data, retryCount: got.retryCount, retryLimit: got.retryLimit };
          break;
        }
      }
      if (fetched) break;
    }
    if (!fetched) return undefined;
    const { queue, id, data } = fetched;
    let reject!: (err: Error) => void;
    const aborted = new Promise<never>((_, r) => (reject = r));
    aborted.catch(() => undefined);
    const label = `${printable(data.site)}/${printable(data.podcast)}/${printable(data.fileKey)}`;
    const c: Claimed = {
      queue,
      id,
      job: data,
      label,
      attempt: fetched.retryCount + 1,
      attempts: fetched.retryLimit + 1,
      aborted,
      heartbeat: leaseKeeper(conn, queue, id, name, env, (m) => log.warn(`${label}: ${m}`)),
      estimate: Infinity,
      prepared: undefined as unknown as Promise<Prepared>,
    };
    running.set(id, { id, queue, label, remaining: () => c.estimate, handBack: () => reject(new HandedBack('the worker was asked to stop')) });
    // Stopped while fetching: back at once.
    if (stopping) reject(new HandedBack('the worker was asked to stop'));
    const t = Date.now();
    c.prepared = (async () => {
      await conn.sql(`UPDATE ${QUEUE_SCHEMA}.job SET output = $3::jsonb WHERE name = $1 AND id = $2::uuid AND state = 'active'`, [queue, id, JSON.stringify({ worker: name })]);
      if (!c.released) c.heartbeat.start();
      return prepare(c);
    })().finally(() => (c.preparedMs = Date.now() - t));
    c.prepared.catch(() => undefined);
    return c;
  }

  async function slot(): Promise<void> {
    // Each slot its own ffmpeg/VAD tools: the VAD's runtime session carries state through one audio file.
    const tools = new EngineTools(env);
    const finishing = new Set<Promise<void>>();
    try {
      await slotLoop(tools, finishing);
    } finally {
      await Promise.all(finishing);
      await tools.close();
    }
  }

  /**
   * One slot: one engine run at a time, with the work around it overlapped. Near the end of a job's engine
   * run (its expected remaining time below the prefetch lead) the slot claims the next job and fetches its
   * audio; a finished job's result is uploaded and completed while the next one's engine runs. So the
   * engine, the costly part, waits neither for the bucket nor for the queue. A prefetched job is held at
   * most the prefetch lead plus its own fetch, and goes back untouched on SIGTERM.
   */
  async function slotLoop(tools: EngineTools, finishing: Set<Promise<void>>): Promise<void> {
    let next: Promise<Claimed | undefined> | undefined;
    // Audio seconds per second of work in this slot's last job: the expected time of the next one.
    let speed = 0;
    while (!stopping || next) {
      let c: Claimed | undefined;
      try {
        c = await (next ?? claimNext());
      } catch (err) {
        next = undefined;
        log.warn(`${(err as Error).message}; trying again in 10 s`);
        await sleep(10_000);
        continue;
      }
      next = undefined;
      if (!c) {
        if (!stopping) await idle();
        continue;
      }
      const current = c;
      let watch: NodeJS.Timeout | undefined;
      try {
        const p = await Promise.race([current.prepared, current.aborted]);
        const started = Date.now();
        const expected = speed > 0 && current.job.durationSeconds ? current.job.durationSeconds / speed : Infinity;
        const lead = Math.max(prefetchSeconds, 2 * ((current.preparedMs ?? 0) / 1000));
        const maybePrefetch = () => {
          if (next || stopping || prefetchSeconds <= 0) return;
          const remaining = Math.min(current.estimate, expected - (Date.now() - started) / 1000);
          if (remaining > lead) return;
          if (watch) clearInterval(watch);
          next = claimNext();
          next.catch(() => undefined);
        };
        watch = setInterval(maybePrefetch, 250);
        maybePrefetch();
        const got = await runEngine(current, p, tools, (done, total, ms) => {
          if (done > 0 && total > 0) current.estimate = ((total - done) * ms) / done / 1000;
          maybePrefetch();
        });
        clearInterval(watch);
        if (got.speed > 0) speed = got.speed;
        running.delete(current.id);
        const done: Promise<void> = finish(current, p, got)
          .catch((err) => settle(current, err))
          .finally(() => release(current))
          .finally(() => finishing.delete(done));
        finishing.add(done);
      } catch (err) {
        if (watch) clearInterval(watch);
        await settle(current, err);
        await release(current);
      }
    }
  }

  const idle = () =>
    new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(t);
        wakers.delete(wake);
        resolve();
      };
      const t = setTimeout(wake, pollMs);
      wakers.add(wake);
    });

  const slots = Array.from({ length: concurrency }, () => slot());
  log.info(`worker ${name}: ${concurrency} job(s) at once, ${threads} thread(s) each${options.engine ? `, engine ${options.engine}` : ''}${options.models?.length ? `, models ${options.models.join(', ')}` : ''}; queue at ${conn.where}`);

  let graceTimer: NodeJS.Timeout | undefined;
  const finished = Promise.all(slots).then(async () => {
    if (graceTimer) clearTimeout(graceTimer);
    for (const b of buckets.values()) {
      await b.flush?.().catch(() => undefined);
      b.close();
    }
    await fsp.rm(tmpDir, { recursive: true, force: true });
    await conn.close();
    log.info(`worker ${name} stopped: ${stats.done} done, ${stats.failed} failed attempt(s), ${stats.handedBack} handed back`);
    return stats;
  });

  return {
    name,
    finished,
    stop(graceSeconds = 0) {
      const first = !stopping;
      stopping = true;
      for (const wake of [...wakers]) wake();
      for (const r of running.values()) {
        if (graceSeconds <= 0 || !(r.remaining() <= graceSeconds)) r.handBack();
        else if (first) log.info(`${r.label}: finishing (about ${Math.ceil(r.remaining())} s left) before stopping`);
      }
      if (graceSeconds > 0 && first) {
        graceTimer = setTimeout(() => {
          for (const r of running.values()) r.handBack();
        }, graceSeconds * 1000);
        graceTimer.unref();
      }
    },
  };
}
