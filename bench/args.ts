/** Command-line options of the benchmarks: `--name=value`, or `--flag` alone for "true". */
export const benchArgs: Record<string, string> = Object.fromEntries(
  process.argv
    .slice(2)
    .map((a) => /^--([\w-]+)(?:=(.*))?$/.exec(a))
    .filter((m): m is RegExpExecArray => !!m)
    .map((m) => [m[1], m[2] ?? 'true']),
);

/** A numeric option, or its default. */
export function numArg(name: string, dflt: number): number {
  return benchArgs[name] === undefined ? dflt : Number(benchArgs[name]);
}

/**
 * `--help`: print the benchmark's usage and exit before doing anything (every bench target is checked to
 * start this way by bench/bench.spec.ts).
 */
export function benchHelp(usage: string): void {
  if (benchArgs.help === undefined) return;
  process.stdout.write(`usage: ${usage.trim()}\n`);
  process.exit(0);
}
