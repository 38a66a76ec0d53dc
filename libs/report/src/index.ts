// The report lib's public surface: what other projects use, by name. Types in types.ts, the run's record
// file in records.ts, the end-of-run summary in summary.ts.
export type { TaskProblem, TaskRecord, TaskResult } from './types';
export { readRunRecords, recordTask, runId } from './records';
export { buildRunReport, formatRunReport, taskSeconds, writeRunReport, type NxTaskResult, type TaskTiming } from './summary';
