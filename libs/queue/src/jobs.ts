import { createHash } from 'node:crypto';
import type { VadSettings } from '@podline/speech';
import { QUEUE_RESULTS_FOLDER } from '@podline/storage';

/** Every transcription queue is named `transcribe.<model>`: a worker can serve only the models it has. */
export const QUEUE_PREFIX = 'transcribe.';

/** New episodes go before upgrades (re-transcribing old ones with a better model). */
export const PRIORITY_NEW = 10;
export const PRIORITY_UPGRADE = 0;

/**
 * Where a worker leaves a finished transcript in the site's bucket: outside the synced folders. Podline's own
 * temp objects: the coordinator removes each once its transcript is in the data folder.
 */
export const RESULTS_FOLDER = QUEUE_RESULTS_FOLDER;

/** What one job carries: enough for a worker to find the site's storage (through its own checkout's config). */
export interface TranscriptionJob {
  version: 1;
  /** site/podcast/fileKey/audioSha256/engine/model: one job per piece of work, ever. */
  key: string;
  site: string;
  podcast: string;
  fileKey: string;
  episodeId: string;
  audio: { key: string; size: number; sha256: string; etag?: string };
  durationSeconds?: number;
  engine: string;
  model: string;
  language: string;
  prompt?: string;
  /** The site's speech windows (VAD), as its own runs use them; absent: fixed windows of `windowSeconds`. */
  vad?: VadSettings;
  windowSeconds?: number;
  /** Bucket key the worker writes the result to. */
  resultKey: string;
  upgrade: boolean;
}

/** What a worker writes to the bucket (one JSON object, so SRT and record arrive together). */
export interface JobResult {
  version: 1;
  key: string;
  srt: string;
  record: {
    source: string;
    engine: string;
    model: string;
    prompt?: string;
    /** The VAD that shaped it (false: none), as a site's own runs record it. */
    vad?: { model: string; settings: VadSettings } | false;
    guards?: Record<string, number>;
    audioSha256: string;
    transcriptSha256: string;
    durationSeconds: number;
    speed: number;
    worker: string;
  };
}

/** What a completed job's output says (pg-boss keeps it with the job). */
export interface JobOutput {
  result?: { key: string; size: number; etag?: string };
  worker?: string;
  message?: string;
  elapsedMs?: number;
  durationSeconds?: number;
}

/** A queue name for a model: letters, digits, dots, dashes and underscores only. */
export function queueName(model: string): string {
  const clean = model.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 100);
  return `${QUEUE_PREFIX}${clean}`;
}

export function jobKey(parts: { site: string; podcast: string; episodeId: string; audioSha256: string; engine: string; model: string }): string {
  // The episode id comes from a feed: hash it so the key stays one line of safe characters.
  const episode = createHash('sha256').update(parts.episodeId).digest('hex').slice(0, 16);
  return [parts.site, parts.podcast, episode, parts.audioSha256, parts.engine, parts.model].join('/');
}

/** The job's id: a UUID derived from its key, so inserting the same work twice is a no-op in the database. */
export function jobId(key: string): string {
  const h = createHash('sha256').update(`podline-job:${key}`).digest();
  h[6] = (h[6] & 0x0f) | 0x50; // version 5-style (name-based)
  h[8] = (h[8] & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

export function resultKeyFor(podcast: string, fileKey: string, id: string): string {
  return `${RESULTS_FOLDER}/${podcast}/${fileKey}/${id}.json`;
}

/**
 * How long a worker may hold a job before it is presumed dead and the job goes to another worker: from the
 * audio's length, since a 3-hour episode legitimately takes longer than a 5-minute one. Base + factor ×
 * duration (defaults: 10 min + 2 × the audio, i.e. a worker slower than half real time loses its jobs);
 * PODLINE_QUEUE_EXPIRY_BASE_SECONDS and PODLINE_QUEUE_EXPIRY_FACTOR change them. Capped below pg-boss's 24 h.
 */
export function expirySeconds(durationSeconds: number | undefined, env: NodeJS.ProcessEnv = process.env): number {
  const base = Number(env.PODLINE_QUEUE_EXPIRY_BASE_SECONDS ?? 600);
  const factor = Number(env.PODLINE_QUEUE_EXPIRY_FACTOR ?? 2);
  // Unknown length: assume three hours of audio.
  const seconds = Math.ceil(base + factor * (durationSeconds && durationSeconds > 0 ? durationSeconds : 3 * 3600));
  return Math.max(1, Math.min(seconds, 23 * 3600));
}

/**
 * How far ahead a live worker keeps its job's expiry (its lease, renewed while the job runs): the expiry's
 * base (PODLINE_QUEUE_EXPIRY_BASE_SECONDS, default 10 min).
 */
export function leaseSeconds(env: NodeJS.ProcessEnv = process.env): number {
  return Math.max(1, Number(env.PODLINE_QUEUE_EXPIRY_BASE_SECONDS ?? 600) || 600);
}

/** "host:pid" of this process, as workers name themselves in job outputs and records. */
export function workerName(hostname: string, pid: number): string {
  return `${hostname}:${pid}`;
}
