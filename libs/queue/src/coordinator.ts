import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { keys, mapLimit, sha256, stableStringify, stripControl, type EpisodeRecord, type Log, type SiteConfig, type SitePaths } from '@podline/config';
import type { TaskProblem } from '@podline/report';
import { vadDescription, vadSettingsOf, type VadSettings } from '@podline/speech';
import { isNotFound, type StorageBackend } from '@podline/storage';
import type { RemoteRequest, RemoteTranscriber, RemoteTranscript, TranscriptSource } from '@podline/transcription';
import { connectQueue, QUEUE_SCHEMA, QueueError, queueUrl, type QueueConnection } from './connection';
import {
  expirySeconds,
  jobId,
  jobKey,
  PRIORITY_NEW,
  PRIORITY_UPGRADE,
  queueName,
  resultKeyFor,
  type JobOutput,
  type JobResult,
  type TranscriptionJob,
} from './jobs';
import { openSiteBucket } from './site-storage';

export interface CoordinatorOptions {
  /** Wait for the site's jobs, with a progress line, instead of leaving them to a later run. */
  wait?: boolean;
  /** Give up waiting after this many seconds (default 6 h); what is still pending is collected later. */
  waitTimeoutSeconds?: number;
  /** Put failed jobs back in the queue (after fixing what made them fail). */
  retryFailed?: boolean;
  env?: NodeJS.ProcessEnv;
  /** How often --wait looks at the queue (default 2 s). */
  pollMs?: number;
}

/** Finished results fetched from the bucket at once. */
const COLLECT_CONCURRENCY = 16;
/** A result object larger than this is not read (bucket content is untrusted; a 3-hour episode's is ~0.5 MB). */
const MAX_RESULT_BYTES = 32 * 1024 * 1024;

/** One row of pg-boss's job (or archive) table, as the coordinator reads it. */
interface JobRow {
  id: string;
  state: 'created' | 'retry' | 'active' | 'completed' | 'cancelled' | 'failed';
  output: JobOutput | null;
  retry_count: number;
}


/** Text that came from elsewhere (a worker's error, a bucket object), safe to print on one line. */
export const printable = (text: string) => stripControl(text, true);

interface Planned {
  enqueue: boolean;
  ep: EpisodeRecord;
  id: string;
  job: TranscriptionJob;
  priority: number;
}

/** The job states of many ids in one query (live jobs first, then archived ones). */
async function jobStates(conn: QueueConnection, name: string, ids: string[]): Promise<Map<string, JobRow>> {
  const out = new Map<string, JobRow>();
  if (!ids.length) return out;
  for (const table of ['job', 'archive']) {
    const missing = ids.filter((id) => !out.has(id));
    if (!missing.length) break;
    const rows = await conn.sql<JobRow>(
      `SELECT id::text AS id, state::text AS state, output, retry_count FROM ${QUEUE_SCHEMA}.${table} WHERE name = $1 AND id = ANY($2::uuid[])`,
      [name, missing],
    );
    for (const r of rows) if (!out.has(r.id)) out.set(r.id, r);
  }
  return out;
}

/** Create the model's queue once; two coordinators creating it at once may deadlock in PostgreSQL: try again. */
export async function ensureQueue(conn: QueueConnection, name: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    if (await conn.boss.getQueue(name)) return;
    try {
      await conn.boss.createQueue(name);
      return;
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (attempt >= 5 || !(code === '40P01' || code === '23505' || code === '42P07')) throw err;
      await new Promise((r) => setTimeout(r, 50 + Math.random() * 200));
    }
  }
}

/**
 * The coordinator side of queue mode, as the `transcribe` step's remote transcriber: for the episodes that
 * need the engine it makes sure their audio is in the bucket, enqueues one job per piece of work (the job id
 * is derived from site, episode, audio hash, engine and model, so repeated runs, two coordinators at once or
 * a retry never make a second job), and collects the transcripts workers finished, checked against the
 * audio hash. It never waits unless asked: pending jobs are collected by a later run.
 */
export function queueTranscriber(input: { workspaceRoot: string; site: SiteConfig; paths: SitePaths; options?: CoordinatorOptions }): RemoteTranscriber {
  const { workspaceRoot, site, paths } = input;
  const options = input.options ?? {};
  const env = options.env ?? process.env;
  return {
    async release({ sources, log }) {
      if (site.storage.kind === 'none') return;
      let bucket: StorageBackend | undefined;
      try {
        bucket = await openSiteBucket(site, paths, workspaceRoot);
        const removed = await releaseResults(bucket!, sources);
        if (removed) log.debug(`removed ${removed} collected result(s) from ${bucket!.description}/queue-results`);
      } catch (err) {
        // Only temp objects: a later run removes them.
        log.warn(`could not remove collected queue results from the bucket (${printable((err as Error).message)}); a later run tries again`);
      } finally {
        bucket?.close();
      }
    },
    async transcribe({ episodes, engine, settings, vad, windowSeconds, log }) {
      const url = queueUrl(env, `site ${site.id} (transcription.mode "queue")`);
      if (site.storage.kind === 'none') {
        throw new QueueError(
          `site ${site.id} is in queue mode but has no bucket (storage.kind "none"): workers get the audio from the site's bucket`,
          `give the site a bucket (storage "s3", or "local" for workers on this machine) or set transcription.mode to "local" in ${site.configFile}`,
        );
      }
      const conn = await connectQueue(url, { env, onError: (m) => log.warn(m) });
      let bucket: StorageBackend | undefined;
      try {
        bucket = await openSiteBucket(site, paths, workspaceRoot);
        return await coordinate({ conn, bucket: bucket!, site, paths, episodes, engine, settings, vad, windowSeconds, log, options, env });
      } finally {
        bucket?.close();
        await conn.close();
      }
    },
  };
}

/** A VAD description from a worker's result (bucket content): only its known fields, as numbers. */
function recordedVad(vad: unknown): TranscriptSource['vad'] {
  if (!vad || typeof vad !== 'object') return false;
  const v = vad as { model?: unknown; settings?: Partial<VadSettings> };
  return { model: printable(String(v.model ?? 'unknown')).slice(0, 100), settings: vadSettingsOf(v.settings ?? {}) };
}

/** Counts from a worker's result (bucket content): numbers only. */
function cleanCounts(counts: object): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(counts)) if (typeof v === 'number' && Number.isFinite(v) && /^[A-Za-z]{1,40}$/.test(k)) out[k] = v;
  return out;
}

/**
 * Remove from the bucket every queue result whose transcript is in the data folder (its record names the
 * job the object belongs to): after each collection, and so also what a run killed between saving a
 * transcript and removing its result left. Only `queue-results/<podcast>/<episode>/<job id>.json` objects.
 */
export async function releaseResults(bucket: StorageBackend, sources: Record<string, TranscriptSource>): Promise<number> {
  if (!bucket.listTemps || !bucket.removeTemp) return 0;
  const collected = (await bucket.listTemps()).filter((o) => {
    const m = /^queue-results\/([^/]+)\/([^/]+)\/([0-9a-f-]{36})\.json$/.exec(o.key);
    const jobKey = m ? sources[keys.transcript(m[1], m[2])]?.jobKey : undefined;
    return Boolean(jobKey && jobId(jobKey) === m![3]);
  });
  await mapLimit(collected, 2 * COLLECT_CONCURRENCY, (o) => bucket.removeTemp!(o.key));
  return collected.length;
}

async function coordinate(ctx: RemoteRequest & {
  conn: QueueConnection;
  bucket: StorageBackend;
  site: SiteConfig;
  paths: SitePaths;
  options: CoordinatorOptions;
  env: NodeJS.ProcessEnv;
}): Promise<{ transcripts: RemoteTranscript[]; counts: Record<string, number>; problems: TaskProblem[] }> {
  const { conn, bucket, site, paths, episodes, engine, settings, vad, windowSeconds, log, options, env } = ctx;
  const vadRecord = vad ? vadDescription(vad) : false;
  const counts: Record<string, number> = {};
  const count = (k: string, n = 1) => (counts[k] = (counts[k] ?? 0) + n);
  const problems: TaskProblem[] = [];
  const transcripts: RemoteTranscript[] = [];
  const problemFor = (ep: EpisodeRecord, message: string, fix?: string) => {
    count('failed');
    problems.push({ site: site.id, podcast: ep.podcast, episode: ep.fileKey, file: ep.audio!.key, message, fix });
  };

  const name = queueName(settings.model);
  await ensureQueue(conn, name);

  const planned: Planned[] = episodes.map(({ episode: ep, upgrade, enqueue }) => {
    const key = jobKey({ site: site.id, podcast: ep.podcast, episodeId: ep.id, audioSha256: ep.audio!.sha256, engine, model: settings.model });
    const id = jobId(key);
    const job: TranscriptionJob = {
      version: 1,
      key,
      site: site.id,
      podcast: ep.podcast,
      fileKey: ep.fileKey,
      episodeId: ep.id,
      audio: { key: ep.audio!.key, size: ep.audio!.size, sha256: ep.audio!.sha256 },
      durationSeconds: ep.durationSeconds,
      engine,
      model: settings.model,
      language: settings.language,
      prompt: settings.prompt,
      ...(vad ? { vad } : {}),
      ...(windowSeconds ? { windowSeconds } : {}),
      resultKey: resultKeyFor(ep.podcast, ep.fileKey, id),
      upgrade,
    };
    return { enqueue, ep, id, job, priority: upgrade ? PRIORITY_UPGRADE : PRIORITY_NEW };
  });
  const byId = new Map(planned.map((p) => [p.id, p]));

  // 1. What the queue knows of them.
  const states = await jobStates(conn, name, planned.map((p) => p.id));
  const toEnqueue: Planned[] = [];
  const pending = new Set<string>();
  const completed: Planned[] = [];
  const reportedFailed = new Set<string>();
  const failedJob = async (p: Planned, row: JobRow) => {
    if (options.retryFailed) {
      await conn.boss.retry(name, p.id);
      pending.add(p.id);
      count('retried');
      return;
    }
    reportedFailed.add(p.id);
    const why = row.state === 'cancelled' ? 'was cancelled' : `failed after ${row.retry_count + 1} attempt(s): ${printable(row.output?.message ?? 'no error kept')}`;
    problemFor(
      p.ep,
      `transcription job ${why}`,
      /audio|decode|ffmpeg|Invalid data/i.test(row.output?.message ?? '')
        ? `fetch the episode's audio again (delete ${p.ep.audio!.key} locally and run the rss target, then upload); a new audio file makes a new job. Or rerun with --retryFailed`
        : 'fix the cause, then run the transcribe target with --retryFailed',
    );
  };
  for (const p of planned) {
    const row = states.get(p.id);
    if (!row) {
      if (p.enqueue) toEnqueue.push(p);
    } else if (!p.enqueue && (row.state === 'failed' || row.state === 'cancelled')) {
      // An upgrade (asked for by an earlier --force) that failed: the current transcript stays.
      log.debug(`${p.ep.podcast}/${p.ep.fileKey}: its upgrade job ${row.state}; the current transcript stays`);
    } else if (row.state === 'completed') completed.push(p);
    else if (row.state === 'failed' || row.state === 'cancelled') await failedJob(p, row);
    else pending.add(p.id);
  }

  // 2. Collect what workers finished (before enqueueing: a finished job whose result is gone is enqueued again).
  const collectDir = path.join(paths.cacheDir(), 'queue');
  const collect = async (p: Planned, output: JobOutput | null): Promise<'gone' | void> => {
    const result = output?.result;
    if (!result) {
      problemFor(p.ep, 'the queue says its job is done but names no result', 'rerun the transcribe target with --retryFailed after checking the worker versions');
      return;
    }
    let doc: JobResult;
    try {
      let text: Buffer;
      if (bucket.readTemp) text = await bucket.readTemp(result.key, MAX_RESULT_BYTES);
      else {
        const tmp = path.join(collectDir, `${p.id}.json`);
        try {
          await bucket.download({ key: result.key, size: result.size, etag: result.etag, mtimeMs: Date.now() }, tmp);
          text = await fsp.readFile(tmp);
        } finally {
          await fsp.rm(tmp, { force: true });
        }
      }
      doc = JSON.parse(text.toString('utf8')) as JobResult;
    } catch (err) {
      // Collected before (and removed from the bucket), yet wanted again (--force, or the data folder lost it):
      // the finished job no longer stands for a transcript anywhere.
      if (isNotFound(err)) return 'gone';
      problemFor(p.ep, `the finished transcript ${result.key} could not be read from ${bucket.description}: ${printable((err as Error).message)}`, 'check the bucket; run again to retry the collection');
      return;
    }
    const audioSha = p.ep.audio!.sha256;
    if (doc?.key !== p.job.key || typeof doc.srt !== 'string' || !doc.record) {
      problemFor(p.ep, `the finished transcript ${result.key} is not the result of this job`, 'delete that object from the bucket and rerun the transcribe target with --retryFailed');
      return;
    }
    if (doc.record.audioSha256 !== audioSha) {
      problemFor(
        p.ep,
        `the transcript in the bucket (${result.key}) was made from audio with sha256 ${printable(String(doc.record.audioSha256)).slice(0, 12)}…, but the episode's audio is now ${audioSha.slice(0, 12)}…`,
        'it is not used; the next run enqueues the new audio',
      );
      return;
    }
    if (sha256(doc.srt) !== doc.record.transcriptSha256) {
      problemFor(p.ep, `the transcript in the bucket (${result.key}) does not match its own checksum`, 'rerun the transcribe target with --retryFailed to transcribe it again');
      return;
    }
    const r = doc.record;
    transcripts.push({
      episode: p.ep,
      srt: doc.srt,
      record: {
        // source: what really ran (a GPU worker may run whisper-cli for a "whisper" site); engine: what the
        // site asked for, so the next run does not count it as made with another engine.
        source: printable(String(r.engine)),
        engine: p.job.engine,
        model: printable(String(r.model)),
        prompt: r.prompt,
        vad: stableStringify(r.vad ?? false) === stableStringify(vadRecord) ? vadRecord : recordedVad(r.vad),
        ...(r.guards && typeof r.guards === 'object' ? { guards: cleanCounts(r.guards) } : {}),
        audioSha256: audioSha,
        transcriptSha256: r.transcriptSha256,
        jobKey: p.job.key,
        worker: printable(String(r.worker)),
        durationSeconds: Number(r.durationSeconds) || 0,
        speed: Number(r.speed) || 0,
      },
    });
    count(p.job.upgrade ? 'collectedUpgrades' : 'collected');
  };
  if (completed.length) await fsp.mkdir(collectDir, { recursive: true });
  const outcomes = await mapLimit(completed, COLLECT_CONCURRENCY, (p) => collect(p, states.get(p.id)!.output));
  const gone = completed.filter((_, i) => outcomes[i] === 'gone');
  if (gone.length) {
    // Their finished jobs go (from the live and the archive table), so the same ids can be enqueued anew.
    const ids = gone.map((p) => p.id);
    for (const table of ['job', 'archive']) await conn.sql(`DELETE FROM ${QUEUE_SCHEMA}.${table} WHERE name = $1 AND id = ANY($2::uuid[]) AND state = 'completed'`, [name, ids]);
    for (const p of gone) {
      if (p.enqueue) toEnqueue.push(p);
      else log.debug(`${p.ep.podcast}/${p.ep.fileKey}: its upgrade was collected before; the transcript stays`);
    }
    log.info(`${gone.length} finished job(s) whose results were collected before are wanted again: enqueued anew`);
  }


  // 3. New work: audio into the bucket if it is not there, then one insert for all jobs.
  if (toEnqueue.length) {
    // Keys and sizes are enough (the worker checks the audio's sha256): a local folder hashes nothing.
    const listing = await bucket.list({ etags: false });
    const ready: Planned[] = [];
    for (const p of toEnqueue) {
      const audio = p.ep.audio!;
      const there = listing.get(audio.key);
      if (there && there.size !== audio.size) {
        problemFor(
          p.ep,
          `the bucket's ${audio.key} (${there.size} bytes) is not the audio this machine has (${audio.size} bytes, sha256 ${audio.sha256.slice(0, 12)}…): workers would transcribe the wrong file`,
          `push this machine's copy: npx nx run ${site.id}:upload --conflict=overwrite-always --folders=audio --exclude-task-dependencies`,
        );
        continue;
      }
      if (!there) {
        const file = paths.file(audio.key);
        const stat = await fsp.stat(file).catch(() => undefined);
        if (!stat) {
          problemFor(p.ep, `its audio ${audio.key} is neither on this machine nor in the bucket`, `run the rss target to download it again`);
          continue;
        }
        const entry = await bucket.upload({ key: audio.key, size: stat.size, mtimeMs: stat.mtimeMs }, file);
        p.job.audio.etag = entry.etag;
        count('audioPushed');
      } else {
        p.job.audio.etag = there.etag;
      }
      ready.push(p);
    }
    await bucket.flush?.();
    const attempts = Math.max(1, site.transcription.queueAttempts ?? 3);
    for (let i = 0; i < ready.length; i += 500) {
      await conn.boss.insert(
        ready.slice(i, i + 500).map((p) => ({
          id: p.id,
          name,
          data: p.job,
          priority: p.priority,
          singletonKey: p.job.key,
          retryLimit: attempts - 1,
          retryDelay: Number(env.PODLINE_QUEUE_RETRY_DELAY_SECONDS ?? 10),
          expireInSeconds: expirySeconds(p.job.durationSeconds, env),
        })),
      );
    }
    // Two coordinators may both have tried: the database kept one job per id either way.
    for (const p of ready) {
      pending.add(p.id);
      count(p.job.upgrade ? 'enqueuedUpgrades' : 'enqueued');
    }
    if (ready.length) log.info(`enqueued ${ready.length} job(s) on queue ${name} at ${conn.where}`);
  }

  // 4. --wait: follow the site's jobs to the end, collecting as they finish.
  if (options.wait && pending.size) {
    await fsp.mkdir(collectDir, { recursive: true });
    const total = pending.size + completed.length;
    const deadline = Date.now() + (options.waitTimeoutSeconds ?? 6 * 3600) * 1000;
    let done = completed.length;
    let failed = 0;
    let lastLine = '';
    while (pending.size && Date.now() < deadline) {
      const now = await jobStates(conn, name, [...pending]);
      let running = 0;
      const workers = new Set<string>();
      for (const id of [...pending]) {
        const row = now.get(id);
        const p = byId.get(id)!;
        if (!row) continue;
        if (row.state === 'completed') {
          pending.delete(id);
          done++;
          if ((await collect(p, row.output)) === 'gone') problemFor(p.ep, `its finished transcript ${row.output?.result?.key ?? ''} is not in ${bucket.description}`, 'run the transcribe target again: it enqueues the episode anew');
        } else if (row.state === 'failed' || row.state === 'cancelled') {
          pending.delete(id);
          failed++;
          await failedJob(p, row);
        } else if (row.state === 'active') {
          running++;
          if (row.output?.worker) workers.add(row.output.worker);
        }
      }
      const line = `${done}/${total} done, ${running} running on ${workers.size} worker(s), ${failed} failed`;
      if (line !== lastLine) log.progress(line);
      lastLine = line;
      if (pending.size) await new Promise((r) => setTimeout(r, options.pollMs ?? 2000));
    }
    if (pending.size) log.warn(`stopped waiting after ${options.waitTimeoutSeconds ?? 6 * 3600} s; ${pending.size} job(s) still pending are collected by a later run`);
  }
  if (pending.size) {
    count('pending', pending.size);
    log.info(`${pending.size} job(s) pending on the queue: a later run collects them (npx nx run tools:queue-status shows the queue)`);
  }
  return { transcripts, counts, problems };
}
