/**
 * A small command-line parser shared by the tools: `--name=value`, `--name value`, `--flag`,
 * `--no-flag`. Names are normalised to camelCase (`--dry-run` and `--dryRun` are the same option),
 * so the flags work the same whether typed by hand or forwarded by Nx (which passes camelCase).
 */
export type ParsedArgs = Record<string, string | boolean>;

export class UsageError extends Error {}

export function camelCase(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

/**
 * Parse argv. `flags` lists the boolean options (they never take the next word as a value);
 * `known` lists every accepted option: anything else is a UsageError naming the option.
 */
export function parseArgs(argv: string[], spec: { flags: string[]; values: string[] }): ParsedArgs {
  const flags = new Set(spec.flags);
  const values = new Set(spec.values);
  const out: ParsedArgs = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument "${arg}"`);
    const eq = arg.indexOf('=');
    let name = camelCase(eq === -1 ? arg.slice(2) : arg.slice(2, eq));
    let value: string | boolean | undefined = eq === -1 ? undefined : arg.slice(eq + 1);
    if (value === undefined && name.startsWith('no') && flags.has(name[2]?.toLowerCase() + name.slice(3))) {
      name = name[2].toLowerCase() + name.slice(3);
      value = false;
    }
    if (flags.has(name)) {
      if (typeof value === 'string') {
        if (!['true', 'false'].includes(value)) throw new UsageError(`--${name} is a flag: use --${name} or --${name}=false`);
        value = value === 'true';
      }
      out[name] = value ?? true;
    } else if (values.has(name)) {
      if (value === undefined) {
        const next = argv[i + 1];
        if (next === undefined || next.startsWith('--')) throw new UsageError(`--${name} needs a value`);
        value = next;
        i++;
      }
      out[name] = value;
    } else {
      throw new UsageError(`unknown option --${name}`);
    }
  }
  return out;
}

/** Quote one word for a POSIX shell (only when needed, so printed commands stay readable). */
export function shellQuote(word: string): string {
  if (word !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

export function shellJoin(words: string[]): string {
  return words.map(shellQuote).join(' ');
}
