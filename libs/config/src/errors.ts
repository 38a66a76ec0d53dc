/** Where a failure happened, and what to do about it. */
export interface PodlineErrorDetails {
  /** What the operator should do (one sentence, imperative). */
  fix?: string;
  site?: string;
  episode?: string;
  file?: string;
  cause?: unknown;
}

/**
 * The base of every Podline domain error: a message naming what failed, `fix` saying what to do, and where
 * relevant the site, episode and file. Recognise Podline errors with `instanceof PodlineError` (never by
 * the shape of an object), and a lib's own errors with `instanceof` its subclass.
 */
export class PodlineError extends Error {
  readonly fix?: string;
  readonly site?: string;
  readonly episode?: string;
  readonly file?: string;

  constructor(message: string, details: PodlineErrorDetails = {}) {
    super(message, details.cause !== undefined ? { cause: details.cause } : undefined);
    this.name = new.target.name;
    if (details.fix !== undefined) this.fix = details.fix;
    if (details.site !== undefined) this.site = details.site;
    if (details.episode !== undefined) this.episode = details.episode;
    if (details.file !== undefined) this.file = details.file;
  }
}

/** The fix of a Podline error, else undefined (any other error says nothing about what to do). */
export function fixOf(err: unknown): string | undefined {
  return err instanceof PodlineError ? err.fix : undefined;
}

/** One problem in a config file: where it is and how to fix it. */
export interface ConfigProblem {
  file: string;
  field: string;
  message: string;
  fix: string;
}

export class ConfigError extends PodlineError {
  constructor(readonly problems: ConfigProblem[]) {
    const files = [...new Set(problems.map((p) => p.file))];
    super(formatProblems(problems), { fix: problems.map((p) => p.fix).join('; '), file: files.length === 1 ? files[0] : undefined });
  }
}

export function formatProblems(problems: ConfigProblem[]): string {
  return problems
    .map((p) => `${p.file}: ${p.field ? `field "${p.field}": ` : ''}${p.message}. Fix: ${p.fix}`)
    .join('\n');
}

const LOCAL_RESOURCE_CODES: Record<string, { what: string; fix: (where: string) => string }> = {
  ENOSPC: { what: 'the disk is full', fix: (w) => `free space on the disk holding ${w} (or point PODLINE_DATA_DIR at a bigger one), then run again` },
  EDQUOT: { what: 'the disk quota is used up', fix: (w) => `free space or raise the quota for ${w}, then run again` },
  EACCES: { what: 'permission denied', fix: (w) => `give the user running Podline write access to ${w}, then run again` },
  EPERM: { what: 'operation not permitted', fix: (w) => `give the user running Podline write access to ${w}, then run again` },
  EROFS: { what: 'the file system is read-only', fix: (w) => `mount the file system holding ${w} read-write (or point PODLINE_DATA_DIR elsewhere), then run again` },
  EMFILE: { what: 'too many open files', fix: () => 'raise the open-files limit (ulimit -n) or lower --concurrency, then run again' },
};

/**
 * This machine's own trouble (disk full, no permission, read-only file system) rather than the file's or the
 * publisher's: such an error stops the site's run with where and what to do, and never counts against an
 * episode. `where` names the path when the error itself does not (a failed write on an open stream).
 */
export function localResourceProblem(err: unknown, where?: string): { code: string; message: string; fix: string } | undefined {
  const e = err as NodeJS.ErrnoException | undefined;
  const known = e?.code ? LOCAL_RESOURCE_CODES[e.code] : undefined;
  if (!known || ['connect', 'bind', 'listen', 'getaddrinfo'].includes(e?.syscall ?? '')) return undefined;
  const at = e?.path ?? where;
  return { code: e!.code!, message: `${known.what} (${e!.code}${at ? ` at ${at}` : ''})`, fix: known.fix(at ?? 'the data folder') };
}
