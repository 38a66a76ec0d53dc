import { promises as fsp } from 'node:fs';
import type { EpisodeManifest } from '@podline/config';

/** The manifest on disk cannot be used; nothing is written over it. */
export class ManifestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ManifestError';
  }
}

/** Read the site's manifest; undefined when there is none yet. Throws ManifestError when it is unreadable. */
export async function readManifest(file: string, site: string): Promise<EpisodeManifest | undefined> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ManifestError(`cannot read ${file}: ${(err as Error).message}`);
  }
  let parsed: EpisodeManifest;
  try {
    parsed = JSON.parse(text) as EpisodeManifest;
  } catch (err) {
    throw new ManifestError(`${file} is not valid JSON (${(err as Error).message}); it was left as is`);
  }
  if (!parsed || parsed.version !== 1 || !Array.isArray(parsed.episodes)) {
    throw new ManifestError(`${file} is not a version 1 episode manifest; it was left as is`);
  }
  if (parsed.site !== site) throw new ManifestError(`${file} belongs to site "${parsed.site}", not "${site}"; it was left as is`);
  return parsed;
}
