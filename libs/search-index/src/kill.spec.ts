import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { keys, SitePaths, stableStringify, TEMP_SUFFIX, type EpisodeRecord } from '@podline/config';
import { buildSiteIndex } from './build';
import { IndexMissingError, searchSite } from './search';
import { spawnTs } from '@podline/testing/run-ts';

/**
 * SIGKILL a real build at the moment it is writing the index (seen on disk: the temp file of a full build, the
 * rollback journal of an incremental one), then check nothing half-built is ever taken for the index.
 */
const EPISODES = 120;
const CUES = 500;

function srt(ep: number, variant: string): string {
  const lines: string[] = [];
  for (let c = 0; c < CUES; c++) {
    const words = Array.from({ length: 10 }, (_, w) => `w${(ep * 31 + c * 7 + w) % 997}`).join(' ');
    lines.push(`${c + 1}\n00:${String(Math.floor(c / 15) % 60).padStart(2, '0')}:${String((c * 4) % 60).padStart(2, '0')},000 --> 00:${String(Math.floor(c / 15) % 60).padStart(2, '0')}:${String((c * 4) % 60 + 3).padStart(2, '0')},500\n${words} ${variant}.\n`);
  }
  return lines.join('\n');
}

function runChild(root: string, siteId: string): ChildProcess {
  return spawnTs(path.join(__dirname, 'test-fixtures', 'build-child.ts'), [root, siteId], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

/** Poll until `seen()` holds, then SIGKILL; resolves true if killed in that state, false if the child ended first. */
function killWhen(child: ChildProcess, seen: () => boolean): Promise<boolean> {
  return new Promise((resolve) => {
    let done = false;
    child.once('exit', () => {
      if (!done) {
        done = true;
        clearInterval(timer);
        resolve(false);
      }
    });
    const timer = setInterval(() => {
      if (!done && seen()) {
        done = true;
        clearInterval(timer);
        child.kill('SIGKILL');
        child.once('exit', () => resolve(true));
      }
    }, 1);
  });
}

describe('a build killed while writing the index', () => {
  let root: string;
  let paths: SitePaths;
  const siteId = 'killsite';
  const episodes: EpisodeRecord[] = Array.from({ length: EPISODES }, (_, i) => ({
    id: `guid-${i}`,
    idSource: 'guid',
    podcast: 'show',
    fileKey: `2024-01-01_ep${String(i).padStart(3, '0')}_x`,
    title: `Episode ${i}`,
    status: 'downloaded',
  }));
  const writeSrts = (variant: (i: number) => string | undefined) =>
    episodes.forEach((ep, i) => {
      const v = variant(i);
      if (v === undefined) return;
      const file = paths.transcriptFile(ep.podcast, ep.fileKey);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, srt(i, v));
    });
  const indexDir = () => paths.searchIndexDir();
  const indexFiles = () => (existsSync(indexDir()) ? readdirSync(indexDir()) : []);

  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'podline-kill-'));
    paths = new SitePaths(siteId, root, {});
    mkdirSync(path.dirname(paths.manifestFile), { recursive: true });
    writeFileSync(paths.manifestFile, stableStringify({ version: 1, site: siteId, episodes }));
    writeSrts(() => 'alpha');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('full build: only a temp file is left, never an index; the next run cleans up and builds it', async () => {
    const killed = await killWhen(runChild(root, siteId), () => indexFiles().some((f) => f.endsWith(TEMP_SUFFIX)));
    expect(killed).toBe(true);
    expect(existsSync(paths.file(keys.searchIndex()))).toBe(false);
    expect(() => searchSite(paths, siteId, 'alpha')).toThrow(IndexMissingError);

    const result = await buildSiteIndex({ siteId, paths });
    expect(result.state!.index.episodes).toBe(EPISODES);
    expect(indexFiles()).toEqual(['index.sqlite']);
    expect(searchSite(paths, siteId, 'alpha', 1000)).toHaveLength(1000);
  });

  it('incremental update: the index stays the last complete one, and the next run finishes the update', async () => {
    const before = await buildSiteIndex({ siteId, paths });
    writeSrts((i) => (i % 3 === 0 ? 'beta' : undefined)); // 40 of 120 episodes: an incremental update
    const killed = await killWhen(runChild(root, siteId), () => indexFiles().includes('index.sqlite-journal'));
    expect(killed).toBe(true);

    // Whatever reads it now sees the last committed index (all "alpha", no "beta") or is told to rebuild.
    let beforeRecovery: string[] | Error;
    try {
      beforeRecovery = searchSite(paths, siteId, 'beta').map((h) => h.entryId);
    } catch (err) {
      beforeRecovery = err as Error;
    }
    if (beforeRecovery instanceof Error) expect(beforeRecovery).toBeInstanceOf(IndexMissingError);
    else expect(beforeRecovery).toEqual([]);

    const after = await buildSiteIndex({ siteId, paths });
    expect(indexFiles()).toEqual(['index.sqlite']);
    expect(after.state!.index.digest).not.toBe(before.state!.index.digest);
    const scratch = await buildSiteIndex({ siteId, paths, force: true });
    expect(after.state).toEqual(scratch.state);
    expect(searchSite(paths, siteId, 'beta', 1000).length).toBeGreaterThan(0);
  });
});
