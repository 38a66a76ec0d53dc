/**
 * What a lib's long work writes to: the one logger interface (the executors hand theirs, which adds `error`,
 * to every lib; tests pass a memory log).
 */
export interface Log {
  info(msg: string): void;
  warn(msg: string): void;
  debug(msg: string): void;
  /** Progress on long work: rewritten in place on a terminal, one line per call in CI and logs. */
  progress(msg: string): void;
}

/** A log that says nothing (libs called without one). */
export const QUIET_LOG: Log = { info() {}, warn() {}, debug() {}, progress() {} };
