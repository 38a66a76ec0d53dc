import type { PostTasksExecution, PreTasksExecution } from '@nx/devkit';
import { locksDir, releaseLocks, reportsDir } from '@podline/config';
import { buildRunReport, formatRunReport, readRunRecords, taskSeconds, writeRunReport, type NxTaskResult } from '@podline/report';
import * as path from 'node:path';

/** Give every task of this Nx run one run id: their report records and site locks are keyed by it. */
export const preTasksExecution: PreTasksExecution = (_options, context) => {
  process.env.PODLINE_RUN_ID = context.id;
};

/**
 * End of run: release this run's site locks, then print one summary table per site and phase and
 * write the JSON report (data/.reports/latest.json). Only runs that touched pipeline targets report.
 */
export const postTasksExecution: PostTasksExecution = async (_options, context) => {
  const root = context.workspaceRoot;
  await releaseLocks(locksDir(root), context.id);
  const tasks = Object.values(context.taskResults);
  // Nx's timing covers the whole task (worker start and module loading included), not only the executor's part.
  const seconds = taskSeconds(
    tasks.map((r) => ({ project: r.task.target.project, target: r.task.target.target, startTime: r.task.startTime, endTime: r.task.endTime })),
    context.startTime,
  );
  const results: NxTaskResult[] = tasks.map((r, i) => ({
    id: r.task.id,
    project: r.task.target.project,
    target: r.task.target.target,
    status: r.status,
    seconds: seconds[i],
  }));
  const records = await readRunRecords(root, context.id);
  const report = buildRunReport(context.id, context.startTime, context.endTime, results, records);
  if (!report.rows.length) return;
  const file = await writeRunReport(reportsDir(root), report);
  process.stdout.write(formatRunReport(report, path.relative(root, file)));
};
