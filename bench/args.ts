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
