/**
 * Command-line options of the tools, parsed by Node's own `util.parseArgs`: `--name=value`, `--name value`,
 * `--flag`, `--no-flag`, `--flag=false`. Names are normalised to camelCase (`--dry-run` and `--dryRun` are the
 * same option), so the flags work the same whether typed by hand or forwarded by Nx (which passes camelCase).
 */
import { parseArgs as nodeParseArgs } from 'node:util';
import { PodlineError } from '@podline/config';

export type ParsedArgs = Record<string, string | boolean>;

/** A command line the tool cannot take; the message says which option and why. */
export class UsageError extends PodlineError {}

export function camelCase(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

/**
 * Parse argv. `flags` lists the boolean options (they never take the next word as a value);
 * `values` the options that take one: anything else is a UsageError naming the option.
 */
export function parseArgs(argv: string[], spec: { flags: string[]; values: string[] }): ParsedArgs {
  const flags = new Set(spec.flags);
  const preset: ParsedArgs = {};
  const rest: string[] = [];
  for (const arg of argv) {
    const m = /^--([^=]+)(?:=(.*))?$/s.exec(arg);
    if (!m) {
      rest.push(arg);
      continue;
    }
    const name = camelCase(m[1]);
    const negated = name.startsWith('no') && name.length > 2 ? name[2].toLowerCase() + name.slice(3) : undefined;
    if (m[2] === undefined && negated && flags.has(negated)) preset[negated] = false;
    else if (flags.has(name) && m[2] !== undefined) {
      if (!['true', 'false'].includes(m[2])) throw new UsageError(`--${name} is a flag: use --${name} or --${name}=false`);
      preset[name] = m[2] === 'true';
    } else rest.push(m[2] === undefined ? `--${name}` : `--${name}=${m[2]}`);
  }
  const options = Object.fromEntries([...spec.flags.map((f) => [f, { type: 'boolean' as const }]), ...spec.values.map((v) => [v, { type: 'string' as const }])]);
  try {
    const { values } = nodeParseArgs({ args: rest, options, strict: true, allowPositionals: false });
    return { ...preset, ...(values as ParsedArgs) };
  } catch (err) {
    const { code, message } = err as { code?: string; message: string };
    const option = /'(--[^' ]+)/.exec(message)?.[1];
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new UsageError(`unknown option ${option}`);
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && option && !/does not take/.test(message)) throw new UsageError(`${option} needs a value`);
    if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') throw new UsageError(`unexpected argument "${/'([^']*)'/.exec(message)?.[1]}"`);
    throw new UsageError(message);
  }
}

/** Quote one word for a POSIX shell (only when needed, so printed commands stay readable). */
export function shellQuote(word: string): string {
  if (word !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

export function shellJoin(words: string[]): string {
  return words.map(shellQuote).join(' ');
}
