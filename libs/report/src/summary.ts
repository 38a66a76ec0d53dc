import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { PIPELINE, writeJsonAtomic } from '@podline/config';
import type { TaskProblem, TaskRecord } from './types';

/** How Nx ended a task (from its task results), joined with what the task recorded. */
export type TaskStatus = 'success' | 'failure' | 'skipped' | 'cached';

export interface ReportRow {
  site: string;
  target: string;
  status: TaskStatus;
  seconds?: number;
  counts?: Record<string, number>;
  problems?: TaskProblem[];
  dryRun?: boolean;
}

export interface RunReport {
  runId: string;
  startedAt: string;
  endedAt: string;
  success: boolean;
  sites: number;
  failed: number;
  rows: ReportRow[];
}

export interface NxTaskResult {
  /** Nx's task id "<project>:<target>" */
  id: string;
  project: string;
  target: string;
  /** Nx statuses: success, failure, skipped, local-cache, local-cache-kept-existing, remote-cache… */
  status: string;
  /** How long Nx says the task took, when it says. */
  seconds?: number;
}

const PHASES: readonly string[] = PIPELINE;

/** When Nx says a task started and ended (epoch ms); batch runs give only the end. */
export interface TaskTiming {
  project: string;
  target: string;
  startTime?: number;
  endTime?: number;
}

/**
 * Each task's wall time as the operator waited for it: from its start (when Nx gives one; else from the end of
 * the phase before it in the same site, or the run's start for the first) to its end. That includes starting the
 * worker and loading modules — the seconds a task's own timer never sees. Undefined when Nx gives no end.
 */
export function taskSeconds(tasks: readonly TaskTiming[], runStart: number): Array<number | undefined> {
  const ends = new Map(tasks.map((t) => [`${t.project}:${t.target}`, t.endTime] as const));
  return tasks.map((t) => {
    if (!t.endTime) return undefined;
    const i = PHASES.indexOf(t.target);
    const before = i > 0 ? ends.get(`${t.project}:${PHASES[i - 1]}`) : undefined;
    const start = t.startTime || Math.max(runStart, before ?? 0);
    return Math.max(0, (t.endTime - start) / 1000);
  });
}

function statusOf(nxStatus: string): TaskStatus {
  if (nxStatus.includes('cache')) return 'cached';
  if (nxStatus === 'success' || nxStatus === 'failure' || nxStatus === 'skipped') return nxStatus;
  return 'failure';
}

/** Join Nx's results with our records: one row per site and phase. */
export function buildRunReport(runId: string, start: number, end: number, results: NxTaskResult[], records: TaskRecord[]): RunReport {
  const bySiteTarget = new Map(records.map((r) => [`${r.site}:${r.target}`, r]));
  const rows: ReportRow[] = results
    .filter((r) => PHASES.includes(r.target))
    .map((r) => {
      const rec = bySiteTarget.get(`${r.project}:${r.target}`);
      const row: ReportRow = { site: r.project, target: r.target, status: statusOf(r.status) };
      if (r.seconds !== undefined && row.status !== 'skipped') row.seconds = Math.round(r.seconds * 10) / 10;
      if (rec && row.status !== 'cached') {
        row.seconds = Math.max(row.seconds ?? 0, rec.seconds);
        row.counts = rec.counts;
        if (rec.problems.length) row.problems = rec.problems;
        if (rec.dryRun) row.dryRun = true;
      }
      return row;
    })
    .sort((a, b) => a.site.localeCompare(b.site) || PHASES.indexOf(a.target) - PHASES.indexOf(b.target));
  const failed = rows.filter((r) => r.status === 'failure').length;
  return {
    runId,
    startedAt: new Date(start).toISOString(),
    endedAt: new Date(end).toISOString(),
    success: failed === 0 && !rows.some((r) => r.status === 'skipped'),
    sites: new Set(rows.map((r) => r.site)).size,
    failed,
    rows,
  };
}

function countsText(counts: Record<string, number> | undefined): string {
  const e = Object.entries(counts ?? {}).filter(([, v]) => v !== 0);
  return e.length ? e.map(([k, v]) => `${k}=${v}`).join(' ') : '-';
}

/** The end-of-run table: one line per site and phase, then every problem with its fix. */
export function formatRunReport(report: RunReport, reportFile?: string): string {
  const header = ['site', 'phase', 'status', 'secs', 'did'];
  const body = report.rows.map((r) => [
    r.site,
    r.target,
    r.status + (r.dryRun ? ' (dry run)' : ''),
    r.seconds === undefined ? '' : r.seconds.toFixed(1),
    r.status === 'cached' ? 'unchanged (Nx cache)' : r.status === 'skipped' ? 'not run: an earlier phase failed' : countsText(r.counts),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ');
  const out = [
    '',
    `Podline run ${report.runId}: ${report.sites} site(s), ${report.rows.length} task(s), ${report.failed} failed`,
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...body.map(line),
  ];
  const problems = report.rows.flatMap((r) => (r.problems ?? []).map((p) => ({ ...p, target: r.target })));
  if (problems.length) {
    out.push('', 'Problems:');
    for (const p of problems) {
      const where = [p.site, p.target, p.podcast, p.episode, p.file].filter(Boolean).join(' / ');
      out.push(`- ${where}: ${p.message}${p.fix ? ` — ${p.fix}` : ''}`.replace(/\n/g, '\n  '));
    }
  }
  if (reportFile) out.push('', `Report: ${reportFile}`);
  return out.join('\n') + '\n';
}

/** How many runs' records and reports are kept in <reports>/runs (an hourly cron: about three weeks). */
export const KEEP_RUNS = 500;

/**
 * Write the run's JSON report as <reports>/runs/<id>.json and <reports>/latest.json, then drop the records
 * and reports of all but the newest KEEP_RUNS runs (Podline's own logs, never site data).
 */
export async function writeRunReport(reportsDir: string, report: RunReport, keep = KEEP_RUNS): Promise<string> {
  const runs = path.join(reportsDir, 'runs');
  await fsp.mkdir(runs, { recursive: true });
  await writeJsonAtomic(path.join(runs, `${report.runId}.json`), report);
  const latest = path.join(reportsDir, 'latest.json');
  await writeJsonAtomic(latest, report);
  await pruneRuns(runs, keep);
  return latest;
}

async function pruneRuns(dir: string, keep: number): Promise<void> {
  const byRun = new Map<string, { files: string[]; mtime: number }>();
  for (const name of await fsp.readdir(dir)) {
    const m = name.match(/^(.+)\.(json|jsonl)$/);
    if (!m) continue;
    const stat = await fsp.stat(path.join(dir, name)).catch(() => undefined);
    if (!stat) continue;
    const run = byRun.get(m[1]) ?? { files: [], mtime: 0 };
    run.files.push(name);
    run.mtime = Math.max(run.mtime, stat.mtimeMs);
    byRun.set(m[1], run);
  }
  const oldest = [...byRun.values()].sort((a, b) => b.mtime - a.mtime).slice(keep);
  for (const run of oldest) for (const name of run.files) await fsp.rm(path.join(dir, name), { force: true });
}
