/**
 * `nx run tools:worker` and `nx run tools:queue-status`: the transcription queue's worker process and its
 * status report. Both read the queue's connection string from PODLINE_QUEUE_URL and never print it.
 */
import { findWorkspaceRoot } from '@podline/config';
import { connectQueue, formatQueueStatus, QueueError, queueStatus, queueUrl, redact, startWorker } from '@podline/queue';
import { UsageError, parseArgs } from './args';

export interface QueueToolIo {
  out(line: string): void;
  err(line: string): void;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export const WORKER_HELP = `Usage: npx nx run tools:worker [options]

Takes transcription jobs off the shared queue (PODLINE_QUEUE_URL), for every queue-mode site of this
checkout: gets the audio from the site's bucket, transcribes it, puts the transcript in the bucket.
Runs until stopped. SIGTERM (or Ctrl-C): jobs about to end finish (--grace), the others go back to the
queue untouched; a second SIGTERM hands everything back at once.

  --concurrency=N   jobs at once (default 1); with 2 cores, 2 × 1 thread can beat 1 × 2 threads
  --threads=N       threads per job (default: cores / concurrency)
  --engine=NAME     run every job with this engine: whisper (built in) or whisper-cli
                    (WHISPER_CLI_PATH: a whisper.cpp built with CUDA or Metal); default: the site's
  --model=A,B       serve only these models' queues (default: every model; jobs for a model missing
                    here are handed back to other workers)
  --grace=SECONDS   on SIGTERM, finish jobs expected to end within this (default 30)
  --poll=MS         when idle, look for work this often (default 1000)
  --prefetch=SECONDS  take the next job and fetch its audio this long before the current job is
                    expected to end, so the engine never waits for the bucket (default 10; 0: never
                    hold a job ahead of time)
  --help`;

export const QUEUE_STATUS_HELP = `Usage: npx nx run tools:queue-status [--json]

Per site: jobs queued, running (on which worker), done, failed (with each error), the oldest waiting
job and the last hour's throughput. Reads PODLINE_QUEUE_URL; prints only its host.

  --json   the same as JSON, for scripts and monitoring
  --help`;

function positiveInt(value: string | boolean | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${name} must be a whole number (got "${String(value)}")`);
  return n;
}

function explain(err: unknown, io: QueueToolIo): number {
  const url = io.env.PODLINE_QUEUE_URL;
  if (err instanceof UsageError) {
    io.err(`error: ${err.message} (see --help)`);
    return 2;
  }
  if (err instanceof QueueError) {
    io.err(`error: ${redact(err.problem, url)}${err.fix ? `\nfix: ${err.fix}` : ''}`);
    return 1;
  }
  io.err(`error: ${redact(String((err as Error)?.stack ?? err), url)}`);
  return 1;
}

export async function workerMain(argv: string[], io: QueueToolIo, signals: NodeJS.EventEmitter = process): Promise<number> {
  try {
    const args = parseArgs(argv, { flags: ['help'], values: ['concurrency', 'threads', 'engine', 'model', 'grace', 'poll', 'prefetch'] });
    if (args.help) {
      io.out(WORKER_HELP);
      return 0;
    }
    const url = queueUrl(io.env, 'the worker');
    const grace = positiveInt(args.grace, 'grace') ?? 30;
    const worker = await startWorker({
      workspaceRoot: findWorkspaceRoot(io.cwd),
      url,
      concurrency: positiveInt(args.concurrency, 'concurrency') || 1,
      threads: positiveInt(args.threads, 'threads') || undefined,
      engine: typeof args.engine === 'string' && args.engine ? args.engine : undefined,
      models: typeof args.model === 'string' && args.model ? args.model.split(',').map((m) => m.trim()).filter(Boolean) : undefined,
      pollMs: positiveInt(args.poll, 'poll') || undefined,
      prefetchSeconds: positiveInt(args.prefetch, 'prefetch'),
      env: io.env,
      log: {
        info: (m) => io.out(`[worker] ${redact(m, url)}`),
        warn: (m) => io.err(`[worker] warning: ${redact(m, url)}`),
      },
    });
    let stops = 0;
    const onSignal = (signal: string) => {
      stops++;
      io.out(`[worker] ${signal}: ${stops === 1 ? `stopping (jobs ending within ${grace} s finish, the others go back to the queue)` : 'handing every job back now'}`);
      worker.stop(stops === 1 ? grace : 0);
    };
    signals.on('SIGTERM', onSignal);
    signals.on('SIGINT', onSignal);
    try {
      await worker.finished;
    } finally {
      signals.off('SIGTERM', onSignal);
      signals.off('SIGINT', onSignal);
    }
    return 0;
  } catch (err) {
    return explain(err, io);
  }
}

export async function queueStatusMain(argv: string[], io: QueueToolIo): Promise<number> {
  try {
    const args = parseArgs(argv, { flags: ['json', 'help'], values: [] });
    if (args.help) {
      io.out(QUEUE_STATUS_HELP);
      return 0;
    }
    const conn = await connectQueue(queueUrl(io.env, 'queue-status'), { env: io.env });
    try {
      const status = await queueStatus(conn);
      if (args.json) io.out(JSON.stringify(status, null, 2));
      else for (const line of formatQueueStatus(status)) io.out(line);
    } finally {
      await conn.close();
    }
    return 0;
  } catch (err) {
    return explain(err, io);
  }
}
