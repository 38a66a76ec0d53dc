/**
 * One measurement in its own process, so peak RSS is that of the work alone (plus Node's baseline,
 * measured separately as "idle"). Sends its figures to the parent over IPC.
 *   modes: idle | sqlite-build | sqlite-query | orama
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { create, insertMultiple, search } from '@orama/orama';
import { keys, SitePaths } from '@podline/config';
import { buildSiteIndex, searchIndex, type EntryFile } from '@podline/search-index';

interface Job {
  mode: 'idle' | 'sqlite-build' | 'sqlite-query' | 'orama';
  root: string;
  siteId: string;
  queries: string[];
  /** orama: index at most this many episodes' entries. */
  episodes?: number;
}

const peakRssMb = () => process.resourceUsage().maxRSS / 1024;
const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
const since = (t: bigint) => Number(process.hrtime.bigint() - t) / 1e6;

async function main(job: Job): Promise<Record<string, unknown>> {
  const paths = new SitePaths(job.siteId, job.root, {});
  switch (job.mode) {
    case 'idle':
      return { peakRssMb: peakRssMb() };
    case 'sqlite-build': {
      const t = process.hrtime.bigint();
      const r = await buildSiteIndex({ siteId: job.siteId, paths });
      return { ms: since(t), peakRssMb: peakRssMb(), counts: r.counts, problems: r.problems.length, entries: r.state?.index.entries };
    }
    case 'sqlite-query': {
      const db = new Database(paths.file(keys.searchIndex()), { readonly: true });
      const lat: number[] = [];
      let hits = 0;
      for (const q of job.queries) {
        const t = process.hrtime.bigint();
        hits += searchIndex(db, q, 10).length;
        lat.push(since(t));
      }
      db.close();
      return { p50: percentile(lat, 50), p95: percentile(lat, 95), max: Math.max(...lat), hits, peakRssMb: peakRssMb() };
    }
    case 'orama': {
      const dir = paths.folder('search-entries');
      const files: string[] = [];
      for (const podcast of readdirSync(dir).sort()) for (const f of readdirSync(path.join(dir, podcast)).sort()) files.push(path.join(dir, podcast, f));
      const used = files.slice(0, job.episodes ?? files.length);
      const t0 = process.hrtime.bigint();
      const db = create({ schema: { text: 'string', podcast: 'string', episodeTitle: 'string', startMs: 'number' } as const });
      let entries = 0;
      let loadMs = 0;
      for (const file of used) {
        const tl = process.hrtime.bigint();
        const ef = JSON.parse(readFileSync(file, 'utf8')) as EntryFile;
        loadMs += since(tl);
        const docs = ef.entries.map((e) => ({ id: e.id, text: e.text, podcast: e.podcast, episodeTitle: ef.episode.title, startMs: e.startMs }));
        await insertMultiple(db, docs, 1000);
        entries += docs.length;
      }
      const buildMs = since(t0);
      const heapMb = process.memoryUsage().heapUsed / 1048576;
      const lat: number[] = [];
      let hits = 0;
      for (const q of job.queries) {
        // Orama has no phrase operator and matches prefixes by itself: give it the bare words.
        const term = q.replace(/["*]/g, '');
        const t = process.hrtime.bigint();
        const res = await search(db, { term, properties: ['text'], limit: 10 });
        lat.push(since(t));
        hits += res.hits.length;
      }
      return { ms: buildMs, loadMs, episodes: used.length, entries, heapMb, p50: percentile(lat, 50), p95: percentile(lat, 95), max: Math.max(...lat), hits, peakRssMb: peakRssMb() };
    }
  }
}

process.once('message', (job: Job) => {
  main(job).then(
    (result) => process.send!({ ok: true, result }, () => process.exit(0)),
    (err) => process.send!({ ok: false, error: String((err as Error)?.stack ?? err) }, () => process.exit(1)),
  );
});
