import { promises as fsp, type Stats } from 'node:fs';
import * as path from 'node:path';
import { PodlineError, QUIET_LOG, sha256, compareKeys, fixOf, ifExists, keys, readManifest, type Log, stableStringify, writeFileAtomic, type EpisodeManifest, type EpisodeRecord, type SitePaths } from '@podline/config';
import type { TaskProblem, TaskResult } from '@podline/report';
import { buildEntryFile, ENTRY_FORMAT, entryEpisode, isEntryFileCurrent, type EntryFile } from './entries';
import { sameFile, StampCache, stampOf } from './stamp-cache';
import { parseSrt } from './srt';
import {
  buildFullIndex,
  contentDigest,
  countEntries,
  INDEX_SCHEMA,
  episodeKey,
  openIndexReadonly,
  readIndexedEpisodes,
  recoverIndex,
  updateIndex,
  type EpisodeToIndex,
  type IndexedEpisode,
} from './sqlite-index';

/** The few log calls the build makes (the Nx executor's logger fits). */
/** What a build logs to: config's one `Log`. */
export type BuildLog = Log;

export interface BuildOptions {
  siteId: string;
  paths: SitePaths;
  /** Say what would be done; write nothing. */
  dryRun?: boolean;
  /** Rebuild every entry file and the whole index even if current. */
  force?: boolean;
  log?: BuildLog;
}

/** SQLite's own structural check (pages, b-trees; a few ms per MB), as a damaged index must not be patched. */
function isIntact(db: NonNullable<ReturnType<typeof openIndexReadonly>>): boolean {
  try {
    const rows = db.pragma('quick_check') as Array<{ quick_check: string }>;
    return rows.length === 1 && rows[0].quick_check === 'ok';
  } catch {
    return false;
  }
}

/** The deterministic state of a site's local index: what is there, never what a run did. */
export interface LocalIndexState {
  kind: 'local';
  engine: 'sqlite-fts5';
  /** Every indexed entry file with the sha256 of its bytes, sorted by key. */
  entries: Array<{ key: string; sha256: string }>;
  index: { key: string; schema: number; digest: string; episodes: number; entries: number };
}

/** The index build's result (report's one result type; no state in dry-run), with what it wrote. */
export interface BuildResult extends TaskResult<LocalIndexState> {
  /** Keys of entry files written this run (for a caller that uploads them). */
  writtenKeys: string[];
  /** True when the index file was (re)written. */
  indexChanged: boolean;
}

const readText = (file: string) => ifExists(fsp.readFile(file, 'utf8'));
const statOrUndefined = (file: string) => ifExists(fsp.stat(file));

/** The site's manifest (config's one reader); a site without one yet is told to run rss first. */
async function requireManifest(paths: SitePaths, siteId: string): Promise<EpisodeManifest> {
  const manifest = await readManifest(paths.manifestFile, siteId);
  if (!manifest) {
    throw new PodlineError(`site ${siteId}: no episode manifest at ${keys.manifest()}`, {
      site: siteId,
      file: keys.manifest(),
      fix: `run \`nx run ${siteId}:rss\` (or the whole pipeline) first`,
    });
  }
  return manifest;
}

interface EpisodeOutcome {
  key: string;
  entryKey: string;
  sha256: string;
  /** True when the entry file was (or, in dry-run, would be) rebuilt. */
  rebuilt: boolean;
}

/**
 * Bring one episode's entry file up to date with its SRT and metadata.
 * Returns undefined when the episode has no transcript yet (nothing to index).
 */
async function syncEntryFile(
  ep: EpisodeRecord,
  opts: BuildOptions,
  counts: Record<string, number>,
  stamps: StampCache,
): Promise<EpisodeOutcome | undefined> {
  const { paths } = opts;
  const srtPath = paths.transcriptFile(ep.podcast, ep.fileKey);
  const srtStat = await statOrUndefined(srtPath);
  if (!srtStat) return undefined;
  const entryKey = keys.searchEntries(ep.podcast, ep.fileKey);
  const entryPath = paths.file(entryKey);
  const entryStat = await statOrUndefined(entryPath);
  const key = episodeKey(ep.podcast, ep.fileKey);
  const meta = entryEpisode(ep);
  const metaSha = sha256(stableStringify(meta));
  const unchanged = (entrySha: string, srtSha: string, stat: Stats) => {
    counts.entriesUnchanged = (counts.entriesUnchanged ?? 0) + 1;
    stamps.set(key, { format: ENTRY_FORMAT, meta: metaSha, srt: stampOf(srtStat, srtSha), entry: stampOf(stat, entrySha) });
    return { key, entryKey, sha256: entrySha, rebuilt: false };
  };

  // Fast path: neither file touched since the last run, same metadata: no reading, no hashing.
  const memo = stamps.get(key);
  if (!opts.force && memo && memo.format === ENTRY_FORMAT && memo.meta === metaSha && sameFile(memo.srt, srtStat) && sameFile(memo.entry, entryStat)) {
    return unchanged(memo.entry.sha256, memo.srt.sha256, entryStat!);
  }

  const srt = await readText(srtPath);
  if (srt === undefined) return undefined;
  const srtSha = sha256(srt);
  const existingText = entryStat ? await readText(entryPath) : undefined;
  let existing: EntryFile | undefined;
  try {
    existing = existingText === undefined ? undefined : (JSON.parse(existingText) as EntryFile);
  } catch {
    existing = undefined; // a damaged entry file is rebuilt
  }
  if (!opts.force && existingText !== undefined && entryStat && isEntryFileCurrent(existing, meta, srtSha)) {
    return unchanged(sha256(existingText), srtSha, entryStat);
  }
  const parsed = parseSrt(srt);
  if (!parsed.cues.length && parsed.badBlocks > 0) {
    throw new PodlineError(`the transcript has ${parsed.badBlocks} block(s) but no readable SRT cue`, {
      file: keys.transcript(ep.podcast, ep.fileKey),
      fix: `check ${keys.transcript(ep.podcast, ep.fileKey)} (expected "00:00:01,000 --> 00:00:04,000" timing lines); delete it to have transcribe redo it`,
    });
  }
  const built = buildEntryFile(meta, srtSha, parsed.cues);
  const text = stableStringify(built);
  const entrySha = sha256(text);
  if (opts.dryRun) {
    opts.log?.info(`would ${existingText === undefined ? 'build' : 'rebuild'} ${entryKey} (${built.entries.length} entries)`);
  } else {
    await writeFileAtomic(entryPath, text);
    opts.log?.debug(`wrote ${entryKey} (${built.entries.length} entries)`);
    const written = await statOrUndefined(entryPath);
    if (written) stamps.set(key, { format: ENTRY_FORMAT, meta: metaSha, srt: stampOf(srtStat, srtSha), entry: stampOf(written, entrySha) });
  }
  counts.entriesBuilt = (counts.entriesBuilt ?? 0) + 1;
  return { key, entryKey, sha256: entrySha, rebuilt: true };
}

/**
 * Build a site's search entries and index from its manifest and transcripts (locally, or in /tmp inside the
 * Lambda handler). Incremental: only entry files whose SRT or metadata changed are rebuilt, only episodes whose
 * entry file changed are re-indexed. A failing episode is reported and left out; the others go on.
 */
export async function buildSiteIndex(opts: BuildOptions): Promise<BuildResult> {
  const { paths, siteId } = opts;
  const log = opts.log ?? QUIET_LOG;
  const counts: Record<string, number> = {};
  const problems: TaskProblem[] = [];
  const writtenKeys: string[] = [];
  const manifest = await requireManifest(paths, siteId);
  const episodes = [...manifest.episodes].sort((a, b) => compareKeys(episodeKey(a.podcast, a.fileKey), episodeKey(b.podcast, b.fileKey)));

  const stampFile = path.join(paths.cacheDir(), 'search-index-stamps.json');
  const stamps = await StampCache.load(stampFile);
  const current: EpisodeOutcome[] = [];
  let seen = 0;
  for (const ep of episodes) {
    seen++;
    if (seen % 50 === 0) log.progress(`entries: ${seen}/${episodes.length} episodes checked`);
    try {
      const outcome = await syncEntryFile(ep, opts, counts, stamps);
      if (!outcome) {
        counts.noTranscript = (counts.noTranscript ?? 0) + 1;
        continue;
      }
      if (outcome.rebuilt && !opts.dryRun) writtenKeys.push(outcome.entryKey);
      current.push(outcome);
    } catch (err) {
      problems.push({
        site: siteId,
        podcast: ep.podcast,
        episode: ep.title || ep.fileKey,
        file: keys.transcript(ep.podcast, ep.fileKey),
        message: (err as Error).message,
        fix: fixOf(err),
      });
    }
  }

  if (!opts.dryRun) await stamps.save(stampFile);

  // Index: diff what it holds against the current entry files.
  const indexKey = keys.searchIndex();
  const indexFile = paths.file(indexKey);
  if (!opts.dryRun) recoverIndex(indexFile);
  const db = openIndexReadonly(indexFile);
  let held: IndexedEpisode[] | undefined;
  try {
    // A damaged index (quick_check finds it) is built again from scratch, never patched.
    held = db && isIntact(db) ? readIndexedEpisodes(db) : undefined;
  } finally {
    db?.close();
  }
  const heldMap = new Map((held ?? []).map((e) => [e.key, e.sha256]));
  const currentKeys = new Set(current.map((c) => c.key));
  const changed = current.filter((c) => heldMap.get(c.key) !== c.sha256);
  const removed = [...heldMap.keys()].filter((k) => !currentKeys.has(k));
  const full = !held || opts.force || changed.length > current.length / 2;
  const toIndex = (c: EpisodeOutcome): EpisodeToIndex => ({
    key: c.key,
    sha256: c.sha256,
    // Entry files are read again when indexed, a batch at a time, so a build never holds them all.
    load: async () => JSON.parse(await fsp.readFile(paths.file(c.entryKey), 'utf8')) as EntryFile,
  });
  const indexChanged = full || changed.length > 0 || removed.length > 0;

  if (opts.dryRun) {
    if (!indexChanged) log.info(`index ${indexKey} is up to date (${current.length} episodes)`);
    else if (full) log.info(`would build ${indexKey} from scratch with ${current.length} episodes`);
    else log.info(`would re-index ${changed.length} episode(s) and drop ${removed.length} from ${indexKey}`);
    return { counts: { ...counts, wouldReindex: full ? current.length : changed.length, wouldDrop: removed.length }, problems, writtenKeys, indexChanged: false };
  }

  const progress = (done: number, total: number) => log.progress(`index: ${done}/${total} episodes`);
  if (full) {
    await buildFullIndex(indexFile, current.map(toIndex), progress);
    counts.reindexed = current.length;
    log.debug(`built ${indexKey} with ${current.length} episodes`);
  } else if (changed.length || removed.length) {
    await updateIndex(indexFile, changed.map(toIndex), removed, progress);
    counts.reindexed = changed.length;
  }
  if (removed.length) counts.dropped = removed.length;

  const after = openIndexReadonly(indexFile);
  if (!after) throw new Error(`site ${siteId}: the index ${indexKey} could not be reopened after building it`);
  let state: LocalIndexState;
  try {
    const indexed = readIndexedEpisodes(after);
    state = {
      kind: 'local',
      engine: 'sqlite-fts5',
      entries: current.map((c) => ({ key: c.entryKey, sha256: c.sha256 })).sort((a, b) => compareKeys(a.key, b.key)),
      index: { key: indexKey, schema: INDEX_SCHEMA, digest: contentDigest(indexed), episodes: indexed.length, entries: countEntries(after) },
    };
  } finally {
    after.close();
  }
  return { state, counts, problems, writtenKeys, indexChanged };
}
