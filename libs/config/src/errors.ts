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
