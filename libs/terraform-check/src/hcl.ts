import { parse } from '@cdktf/hcl2json';
import { PodlineError } from '@podline/config';

/** HCL (a .tf, .tfvars or .tfbackend file) as JSON, the shape `terraform`'s own JSON syntax uses. */
export type HclDocument = Record<string, unknown>;

/** Thrown when a file is not valid HCL; `detail` is the parser's message (with line and column). */
export class HclSyntaxError extends PodlineError {
  declare readonly file: string;
  constructor(
    file: string,
    readonly detail: string,
  ) {
    super(`${file}: ${detail}`, { file, fix: 'correct the syntax' });
  }
}

/**
 * Parse HCL with @cdktf/hcl2json (HashiCorp's own HCL parser compiled to WebAssembly: no terraform binary
 * needed). Blocks come back as `{ type: { label: [body, ...] } }`, attributes as plain values for literals
 * and as "${expr}" strings for expressions.
 */
export async function parseHcl(file: string, text: string): Promise<HclDocument> {
  try {
    return (await parse(file, text)) as HclDocument;
  } catch (err) {
    const message = (err as Error).message.replace(/^parse config: \[?/, '').replace(/\]$/, '');
    throw new HclSyntaxError(file, message);
  }
}

/** The names of the `variable` blocks of a parsed module file, with whether each has a default. */
export function declaredVariables(doc: HclDocument): Map<string, { hasDefault: boolean; default?: unknown }> {
  const out = new Map<string, { hasDefault: boolean; default?: unknown }>();
  const blocks = (doc.variable ?? {}) as Record<string, Array<Record<string, unknown>>>;
  for (const [name, bodies] of Object.entries(blocks)) {
    const body = bodies[0] ?? {};
    out.set(name, 'default' in body ? { hasDefault: true, default: body.default } : { hasDefault: false });
  }
  return out;
}
