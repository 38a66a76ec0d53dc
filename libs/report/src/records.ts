import { appendFileSync, mkdirSync, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { reportsDir } from '@podline/config';
import type { TaskRecord } from './types';

/** The current run's id: set by the plugin before tasks run, else one per process. */
export function runId(env: NodeJS.ProcessEnv = process.env): string {
  return env.PODLINE_RUN_ID || `pid-${process.ppid}`;
}

/** Append a task record to the run's record file (one JSON line each; appends of one line are atomic). */
export async function recordTask(workspaceRoot: string, record: TaskRecord, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const dir = path.join(reportsDir(workspaceRoot, env), 'runs');
  // Synchronous: one small append per task (a single write with O_APPEND, as before), cheaper than three
  // thread-pool round trips.
  mkdirSync(dir, { recursive: true });
  appendFileSync(path.join(dir, `${runId(env)}.jsonl`), JSON.stringify(record) + '\n');
}

/** Read a run's records. */
export async function readRunRecords(workspaceRoot: string, id: string, env: NodeJS.ProcessEnv = process.env): Promise<TaskRecord[]> {
  const file = path.join(reportsDir(workspaceRoot, env), 'runs', `${id}.jsonl`);
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as TaskRecord);
}
