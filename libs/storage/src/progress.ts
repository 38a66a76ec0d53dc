import type { SyncLog } from './types';

const MB = 1024 * 1024;

/** Byte and file progress of a batch of transfers, logged at most once a second and at the end. */
export class Progress {
  private files = 0;
  private bytes = 0;
  private last = 0;

  constructor(
    private readonly log: SyncLog,
    private readonly verb: string,
    private readonly totalFiles: number,
    private readonly totalBytes: number,
    private readonly now: () => number = Date.now,
  ) {}

  bytesDone = (n: number): void => {
    this.bytes += n;
    this.maybeLog();
  };

  fileDone(): void {
    this.files++;
    this.maybeLog(this.files === this.totalFiles);
  }

  private maybeLog(force = false): void {
    const t = this.now();
    if (!force && t - this.last < 1000) return;
    this.last = t;
    const pct = this.totalBytes ? Math.min(100, Math.floor((this.bytes / this.totalBytes) * 100)) : 100;
    this.log.progress(
      `${this.verb} ${this.files}/${this.totalFiles} files, ${(this.bytes / MB).toFixed(1)}/${(this.totalBytes / MB).toFixed(1)} MB (${pct}%)`,
    );
  }
}
