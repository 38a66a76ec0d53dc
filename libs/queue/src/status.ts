import { QUEUE_SCHEMA, type QueueConnection } from './connection';
import { printable } from './coordinator';
import { QUEUE_PREFIX } from './jobs';

export interface SiteQueueStatus {
  site: string;
  queued: number;
  running: Array<{ podcast: string; episode: string; worker: string; model: string; startedAt: string }>;
  done: number;
  failed: Array<{ podcast: string; episode: string; model: string; attempts: number; error: string }>;
  /** When the oldest job still waiting was enqueued (ISO), if any. */
  oldestWaiting?: string;
  lastHour: { jobs: number; audioSeconds: number };
}

export interface QueueStatus {
  /** host:port/database (never the connection string). */
  queue: string;
  sites: SiteQueueStatus[];
}

/** What the queue holds, per site: queued, running (on which worker), done, failed (with each error), oldest waiting, last hour. */
export async function queueStatus(conn: QueueConnection): Promise<QueueStatus> {
  const like = `${QUEUE_PREFIX}%`;
  const bySite = new Map<string, SiteQueueStatus>();
  const siteOf = (site: string) => {
    let s = bySite.get(site);
    if (!s) bySite.set(site, (s = { site, queued: 0, running: [], done: 0, failed: [], lastHour: { jobs: 0, audioSeconds: 0 } }));
    return s;
  };
  const both = `(SELECT name, state, data, output, created_on, started_on, completed_on, retry_count FROM ${QUEUE_SCHEMA}.job
                 UNION ALL SELECT name, state, data, output, created_on, started_on, completed_on, retry_count FROM ${QUEUE_SCHEMA}.archive) j`;
  const counts = await conn.sql<{ site: string; state: string; n: number; oldest: Date | null }>(
    `SELECT data->>'site' AS site, state::text AS state, count(*)::int AS n, min(created_on) AS oldest FROM ${both}
     WHERE name LIKE $1 GROUP BY 1, 2`,
    [like],
  );
  for (const c of counts) {
    const s = siteOf(c.site);
    if (c.state === 'created' || c.state === 'retry') {
      s.queued += c.n;
      const oldest = c.oldest ? new Date(c.oldest).toISOString() : undefined;
      if (oldest && (!s.oldestWaiting || oldest < s.oldestWaiting)) s.oldestWaiting = oldest;
    } else if (c.state === 'completed') s.done += c.n;
  }
  const detail = await conn.sql<{ site: string; state: string; podcast: string; episode: string; model: string; worker: string | null; message: string | null; started_on: Date | null; retry_count: number }>(
    `SELECT data->>'site' AS site, state::text AS state, data->>'podcast' AS podcast, data->>'fileKey' AS episode, data->>'model' AS model,
            output->>'worker' AS worker, output->>'message' AS message, started_on, retry_count
     FROM ${both} WHERE name LIKE $1 AND state IN ('active', 'failed', 'cancelled') ORDER BY 1, 3, 4`,
    [like],
  );
  for (const d of detail) {
    const s = siteOf(d.site);
    if (d.state === 'active') {
      s.running.push({ podcast: d.podcast, episode: d.episode, model: d.model, worker: printable(d.worker ?? 'starting'), startedAt: d.started_on ? new Date(d.started_on).toISOString() : '' });
    } else {
      s.failed.push({ podcast: d.podcast, episode: d.episode, model: d.model, attempts: d.retry_count + 1, error: printable(d.state === 'cancelled' ? 'cancelled' : (d.message ?? 'no error kept')) });
    }
  }
  const hour = await conn.sql<{ site: string; n: number; seconds: number | null }>(
    `SELECT data->>'site' AS site, count(*)::int AS n, sum((output->>'durationSeconds')::float) AS seconds FROM ${both}
     WHERE name LIKE $1 AND state = 'completed' AND completed_on > now() - interval '1 hour' GROUP BY 1`,
    [like],
  );
  for (const h of hour) siteOf(h.site).lastHour = { jobs: h.n, audioSeconds: Math.round(h.seconds ?? 0) };
  return { queue: conn.where, sites: [...bySite.values()].sort((a, b) => (a.site < b.site ? -1 : a.site > b.site ? 1 : 0)) };
}

function ago(iso: string, now: number): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 120) return `${s} s ago`;
  if (s < 7200) return `${Math.round(s / 60)} min ago`;
  return `${Math.round(s / 3600)} h ago`;
}

/** The status as lines for people. */
export function formatQueueStatus(status: QueueStatus, now = Date.now()): string[] {
  const lines = [`Transcription queue at ${status.queue}`];
  if (!status.sites.length) return [...lines, 'no jobs'];
  const rows = status.sites.map((s) => [
    s.site,
    String(s.queued),
    String(s.running.length),
    String(s.done),
    String(s.failed.length),
    s.oldestWaiting ? ago(s.oldestWaiting, now) : '-',
    `${s.lastHour.jobs} job(s), ${(s.lastHour.audioSeconds / 3600).toFixed(1)} h of audio`,
  ]);
  const head = ['site', 'queued', 'running', 'done', 'failed', 'oldest waiting', 'last hour'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (r: string[]) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  lines.push(fmt(head), fmt(widths.map((w) => '-'.repeat(w))), ...rows.map(fmt));
  for (const s of status.sites) {
    for (const r of s.running) lines.push(`${s.site}: running ${r.podcast}/${r.episode} (${r.model}) on ${r.worker}${r.startedAt ? `, since ${ago(r.startedAt, now)}` : ''}`);
    for (const f of s.failed) lines.push(`${s.site}: failed ${f.podcast}/${f.episode} (${f.model}) after ${f.attempts} attempt(s): ${f.error}`);
  }
  return lines;
}
