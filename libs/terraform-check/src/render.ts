/**
 * Writes tfvars / tfbackend files the way `terraform fmt` formats them: two-space indent and the `=` of
 * consecutive single-line attributes aligned. Only the value kinds our generated files use are supported.
 */
export type HclValue = string | number | boolean | HclObject;
export interface HclObject {
  [key: string]: HclValue;
}

function literal(value: string | number | boolean): string {
  if (typeof value !== 'string') return String(value);
  // JSON string escapes are valid HCL; "${" and "%{" would start a template, so double the sigil.
  return JSON.stringify(value).replace(/\$\{/g, '$${').replace(/%\{/g, '%%{');
}

function keyOf(key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_-]*$/.test(key) ? key : JSON.stringify(key);
}

function renderBody(obj: HclObject, indent: string, quoteKeys: boolean, mapKeys: ReadonlySet<string>): string[] {
  const lines: string[] = [];
  const entries = Object.entries(obj);
  let i = 0;
  while (i < entries.length) {
    const [key, value] = entries[i];
    const name = quoteKeys ? JSON.stringify(key) : keyOf(key);
    if (typeof value === 'object') {
      // A nested object: its own lines, never aligned with its neighbours. Map keys are quoted.
      const inner = renderBody(value, indent + '  ', mapKeys.has(key), new Set());
      lines.push(...(inner.length ? [`${indent}${name} = {`, ...inner, `${indent}}`] : [`${indent}${name} = {}`]));
      i++;
      continue;
    }
    // A run of single-line attributes, aligned on the longest name.
    const run: Array<[string, string]> = [];
    while (i < entries.length && typeof entries[i][1] !== 'object') {
      const [k, v] = entries[i];
      run.push([quoteKeys ? JSON.stringify(k) : keyOf(k), literal(v as string | number | boolean)]);
      i++;
    }
    const width = Math.max(...run.map(([k]) => k.length));
    for (const [k, v] of run) lines.push(`${indent}${k.padEnd(width)} = ${v}`);
  }
  return lines;
}

/**
 * Render top-level attributes. `sections` are separated by a blank line; `mapKeys` names attributes
 * whose object value is a map keyed by arbitrary strings (its keys are quoted), e.g. `sites`.
 */
export function renderTfvars(sections: HclObject[], options: { header?: string[]; mapKeys?: string[] } = {}): string {
  const out: string[] = (options.header ?? []).map((line) => `# ${line}`.trimEnd());
  const mapKeys = new Set(options.mapKeys ?? []);
  for (const section of sections) {
    if (out.length) out.push('');
    out.push(...renderBody(section, '', false, mapKeys));
  }
  return out.join('\n') + '\n';
}
