/** One problem in a config file: where it is and how to fix it. */
export interface ConfigProblem {
  file: string;
  field: string;
  message: string;
  fix: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(formatProblems(problems));
    this.name = 'ConfigError';
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
