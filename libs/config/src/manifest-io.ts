import { promises as fsp } from 'node:fs';
import { PodlineError } from './errors';
import type { EpisodeManifest } from './manifest';

/**
 * An episode manifest that cannot be used: unreadable, not JSON, not a version 1 manifest, or another site's.
 * The file itself is never touched; the fix says how to get a good one back.
 */
export class ManifestError extends PodlineError {
  /** What is wrong with the file, without the fix (for callers whose fix differs, e.g. the bucket's copy). */
  readonly reason: string;
  constructor(message: string, site: string, file: string) {
    const fix =
      `move it aside, then run \`nx run ${site}:pre-sync\` to fetch the bucket's copy, ` +
      `or \`nx run ${site}:rss\` to rebuild it from the feeds (audio already here is adopted, not downloaded again)`;
    super(`${message}. Fix: ${fix}`, { fix, site, file });
    this.reason = message;
  }
}

/**
 * The one reader of a site's episode manifest (rss, transcribe and index all read it here): undefined when
 * there is none yet; a ManifestError when it is there but unusable.
 */
export async function readManifest(file: string, site: string): Promise<EpisodeManifest | undefined> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ManifestError(`cannot read ${file}: ${(err as Error).message}`, site, file);
  }
  let parsed: EpisodeManifest;
  try {
    parsed = JSON.parse(text) as EpisodeManifest;
  } catch (err) {
    throw new ManifestError(`${file} is not valid JSON (${(err as Error).message}); it was left as is`, site, file);
  }
  if (!parsed || parsed.version !== 1 || !Array.isArray(parsed.episodes)) {
    throw new ManifestError(`${file} is not a version 1 episode manifest; it was left as is`, site, file);
  }
  if (parsed.site !== site) throw new ManifestError(`${file} belongs to site "${parsed.site}", not "${site}"; it was left as is`, site, file);
  return parsed;
}

