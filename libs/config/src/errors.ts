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
