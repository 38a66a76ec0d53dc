import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { PodlineError } from './errors';

/**
 * Secrets in feed URLs (member and paid feeds): a site config says `${secret:NAME}` where the token goes,
 * e.g. `"feedUrl": "https://host/feed?token=${secret:MY_FEED_TOKEN}"`, and the value comes from the
 * environment, else from `.env.secrets` at the workspace root (gitignored, beside `.env.automation`; see
 * `.env.secrets.template`).
 *
 * Podline keeps URLs in that form everywhere — the manifest, saved feeds, validators, reports, logs, state
 * files — and reveals the value only for the request itself (`openUrl`). Whatever a server sends back with
 * the value in it (the feed's own enclosure and transcript links, redirects, error messages) is masked back
 * to `${secret:NAME}` before it is stored or printed (`maskSecrets`, `maskSecretsIn`).
 */
export const SECRETS_FILE = '.env.secrets';

/** The shortest value accepted: a shorter one could not be masked without mangling ordinary text. */
const MIN_SECRET_LENGTH = 8;

/** `${secret:NAME}`, also as a URL parser leaves it in a path (`$%7Bsecret:NAME%7D`). */
const REFERENCE = /\$(?:\{|%7B)secret:([A-Za-z_][A-Za-z0-9_]*)(?:\}|%7D)/gi;

export class SecretError extends PodlineError {}

/** Parse dotenv-style text: KEY=VALUE lines, `export ` prefix, # comments, single or double quotes. */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) continue;
    let value = m[2].trim();
    const q = value[0];
    if ((q === '"' || q === "'") && value.endsWith(q) && value.length >= 2) value = value.slice(1, -1);
    else value = value.replace(/\s+#.*$/, '');
    out[m[1]] = value;
  }
  return out;
}

let secretsRoot: string | undefined;
/** Values revealed (or registered) in this process, by name: what masking replaces. */
const known = new Map<string, string>();

/** Where `.env.secrets` is looked for (the workspace root; default: the current directory). */
export function setSecretsRoot(workspaceRoot: string): void {
  secretsRoot = workspaceRoot;
}

function fileSecrets(): Record<string, string> {
  const file = path.join(secretsRoot ?? process.cwd(), SECRETS_FILE);
  try {
    return parseEnvFile(readFileSync(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new SecretError(`cannot read ${SECRETS_FILE}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { fix: `make ${SECRETS_FILE} readable by this user` });
  }
}

/** The names a text refers to (`${secret:NAME}`), each once. */
export function secretNames(text: string): string[] {
  return [...new Set([...text.matchAll(REFERENCE)].map((m) => m[1]))];
}

/** Whether a text refers to a secret. */
export function hasSecrets(text: string): boolean {
  REFERENCE.lastIndex = 0;
  const found = REFERENCE.test(text);
  REFERENCE.lastIndex = 0;
  return found;
}

function lookup(name: string, env: NodeJS.ProcessEnv, file: () => Record<string, string>): string {
  const value = env[name] || file()[name];
  if (!value) {
    throw new SecretError(`the secret ${name} is not set`, {
      fix: `set ${name} in the environment, or in ${SECRETS_FILE} at the workspace root (copy .env.secrets.template; it is gitignored)`,
    });
  }
  if (value.length < MIN_SECRET_LENGTH) {
    throw new SecretError(`the secret ${name} is shorter than ${MIN_SECRET_LENGTH} characters, too short to be kept out of logs reliably`, { fix: `use the full token for ${name}` });
  }
  known.set(name, value);
  return value;
}

/** The text with every `${secret:NAME}` replaced by its value (for the request only: never store or print it). */
export function revealSecrets(text: string, env: NodeJS.ProcessEnv = process.env): string {
  if (!hasSecrets(text)) return text;
  let cached: Record<string, string> | undefined;
  const file = () => (cached ??= fileSecrets());
  return text.replace(REFERENCE, (_m, name: string) => lookup(name, env, file));
}

/** Learn the values a text refers to, so they are masked from now on (missing ones are left to revealSecrets to report). */
export function registerSecrets(text: string, env: NodeJS.ProcessEnv = process.env): void {
  let cached: Record<string, string> | undefined;
  const file = () => (cached ??= fileSecrets());
  for (const name of secretNames(text)) {
    try {
      lookup(name, env, file);
    } catch (err) {
      if (!(err instanceof SecretError)) throw err;
    }
  }
}

const xmlEscaped = (v: string) => v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

/** Every spelling of a value that may turn up in text: as is, URL-encoded, XML-escaped, JSON-escaped. */
function spellings(value: string): string[] {
  return [...new Set([value, encodeURIComponent(value), xmlEscaped(value), JSON.stringify(value).slice(1, -1)])].sort((a, b) => b.length - a.length);
}

/** The text with every known secret value put back as `${secret:NAME}`. */
export function maskSecrets(text: string): string {
  if (!known.size || typeof text !== 'string') return text;
  let out = text;
  for (const [name, value] of known) for (const s of spellings(value)) out = out.split(s).join(`\${secret:${name}}`);
  return out;
}

/** A body (a feed) with every known secret value put back as `${secret:NAME}`, before it is parsed or saved. */
export function maskSecretsIn(body: Buffer): Buffer {
  if (!known.size) return body;
  let out = body;
  for (const [name, value] of known) {
    for (const s of spellings(value)) {
      const needle = Buffer.from(s, 'utf8');
      const placeholder = Buffer.from(`\${secret:${name}}`, 'utf8');
      const parts: Buffer[] = [];
      let from = 0;
      for (let at = out.indexOf(needle); at >= 0; at = out.indexOf(needle, from)) {
        parts.push(out.subarray(from, at), placeholder);
        from = at + needle.length;
      }
      if (parts.length) out = Buffer.concat([...parts, out.subarray(from)]);
    }
  }
  return out;
}

/** A JSON-able value with every known secret masked in its strings (report records, state files). */
export function maskSecretsDeep<T>(value: T): T {
  if (!known.size) return value;
  return JSON.parse(maskSecrets(JSON.stringify(value))) as T;
}
