/**
 * The generators' own questions, for what a schema prompt cannot ask: Nx asks every `x-prompt` of a
 * schema, whatever the earlier answers were, so the AWS account and region of an S3 site are asked here,
 * after the storage answer, and only when Nx itself would prompt.
 */

/** One text question: its message and the answer used when the user just presses Enter. */
export type AskText = (message: string, initial?: string) => Promise<string>;

/** Whether Nx runs this generator interactively (a terminal, not CI, no `--no-interactive`). */
export function isInteractive(argv: string[] = process.argv, env: NodeJS.ProcessEnv = process.env, tty = !!process.stdout.isTTY): boolean {
  if (!tty || env.CI === 'true') return false;
  return !argv.some((a) => a === '--no-interactive' || a === '--interactive=false');
}

/** enquirer on the terminal. */
export const terminalAsk: AskText = async (message, initial) => {
  const Enquirer = (await import('enquirer')).default;
  const answers = (await new Enquirer().prompt({ type: 'input', name: 'value', message, initial } as never)) as { value: string };
  return String(answers.value ?? '').trim();
};
