import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { writeJsonAtomic, type SitePaths } from '@podline/config';

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
}

interface SourcesFile {
  version: 1;
  /** By transcript key. */
  transcripts: Record<string, TranscriptSource>;
}

export function sourcesFile(paths: SitePaths): string {
  return path.join(paths.cacheDir(), 'transcripts.json');
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
