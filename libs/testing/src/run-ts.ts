import { spawn, spawnSync, type ChildProcess, type SpawnOptions, type SpawnSyncOptions } from 'node:child_process';
import * as path from 'node:path';

/** The one launcher of this workspace's TypeScript entry points (tools, benchmarks, test children). */
export const RUN_TS = path.resolve(__dirname, '..', '..', '..', 'tools', 'scripts', 'run-ts.js');

/** A TypeScript file of the workspace in its own Node process, started as every tool and bench is. */
export function spawnTs(file: string, args: string[] = [], options: SpawnOptions = {}): ChildProcess {
  return spawn(process.execPath, [RUN_TS, file, ...args], options);
}

/** `spawnTs`, waiting for the process to end. */
export function spawnTsSync(file: string, args: string[] = [], options: SpawnSyncOptions = {}) {
  return spawnSync(process.execPath, [RUN_TS, file, ...args], options);
}
