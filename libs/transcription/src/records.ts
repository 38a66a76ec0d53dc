import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { writeJsonAtomic, type SitePaths } from '@podline/config';
import type { VadSettings } from '@podline/speech';

/** Where an episode's SRT came from and what made it: local bookkeeping, never synced. */
export interface TranscriptSource {
  source: 'publisher' | string; // 'publisher' or the engine's name ('whisper', 'whisper-cli')
  audioSha256: string;
  transcriptSha256: string;
  /** Publisher transcripts: the link used and its format. */
  url?: string;
  format?: string;
  /** Engine transcripts: what produced them. */
  engine?: string;
  model?: string;
  prompt?: string;
  /** Queue mode: the job this transcript came from, and what the worker measured. */
  jobKey?: string;
  worker?: string;
  durationSeconds?: number;
  /** Audio seconds per wall-clock second. */
  speed?: number;
  /** Engine transcripts: the voice-activity model and settings that chose what Whisper heard; false: none (whole audio). */
  vad?: { model: string; settings: VadSettings } | false;
  /** Engine transcripts: what the guards dropped or cut, by reason. */
  guards?: Record<string, number>;
  /** sha256 of the corrections file applied to the raw transcript ('' or absent: none). */
  correctionsSha256?: string;
}

interface SourcesFile {
  version: 1;
  /** By transcript key. */
  transcripts: Record<string, TranscriptSource>;
}

export function sourcesFile(paths: SitePaths): string {
  return path.join(paths.cacheDir(), 'transcripts.json');
}

/**
 * The transcript as the recogniser (or the publisher) gave it, before corrections: kept beside the
 * sources so that editing the corrections file re-applies them without running Whisper again.
 */
export function rawTranscriptFile(paths: SitePaths, transcriptKey: string): string {
  return path.join(paths.cacheDir(), 'raw-transcripts', transcriptKey);
}

export async function loadSources(paths: SitePaths): Promise<Record<string, TranscriptSource>> {
  try {
    const doc = JSON.parse(await fsp.readFile(sourcesFile(paths), 'utf8')) as SourcesFile;
    return doc.transcripts ?? {};
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new Error(`${sourcesFile(paths)} is unreadable (${(err as Error).message}): delete it; existing SRT files then count as done`);
  }
}

export async function saveSources(paths: SitePaths, transcripts: Record<string, TranscriptSource>): Promise<void> {
  const doc: SourcesFile = { version: 1, transcripts };
  await writeJsonAtomic(sourcesFile(paths), doc);
}
