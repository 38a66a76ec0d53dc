import type { ErrorObject, ValidateFunction } from 'ajv';
import { readFileSync, existsSync } from 'node:fs';
import * as path from 'node:path';
import schema from '../site.config.schema.json';
import { ConfigError, type ConfigProblem } from './errors';
import {
  DEFAULT_AUTOMATION_ROLE_NAME,
  DEFAULT_MODEL,
  type SiteConfig,
  type SiteConfigFile,
} from './types';

export const SITE_CONFIG_FILE = 'site.config.json';

// The schema is ours (load.spec checks it against JSON Schema's meta-schema): not validating it again on every
// load spares each process compiling the meta-schema, about half the cost of compiling the schema. Compiled on
// first use: a process that imports this lib but reads no site config (an upload tool, a worker's start-up
// before its first job) does not load ajv at all.
let compiled: ValidateFunction<SiteConfigFile> | undefined;
function siteConfigValidator(): ValidateFunction<SiteConfigFile> {
  if (!compiled) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const Ajv = (require('ajv') as typeof import('ajv')).default;
    compiled = new Ajv({ allErrors: true, strict: false, verbose: true, validateSchema: false }).compile<SiteConfigFile>(schema);
  }
  return compiled;
}

function fieldOf(instancePath: string): string {
  // "/podcasts/0/feedUrl" -> "podcasts[0].feedUrl"
  return instancePath
    .split('/')
    .filter(Boolean)
    .map((part, i) => (/^\d+$/.test(part) ? `[${part}]` : i === 0 ? part : `.${part}`))
    .join('');
}

function problemFromAjv(file: string, err: ErrorObject): ConfigProblem | undefined {
  const field = fieldOf(err.instancePath);
  const at = (name: string) => (field ? `${field}.${name}` : name);
  switch (err.keyword) {
    case 'required': {
      const missing = (err.params as { missingProperty: string }).missingProperty;
      return { file, field: at(missing), message: 'is missing', fix: `add "${missing}" (see the schema: ${SITE_CONFIG_FILE}'s "$schema")` };
    }
    case 'additionalProperties': {
      const extra = (err.params as { additionalProperty: string }).additionalProperty;
      return { file, field: at(extra), message: 'is not a known setting', fix: `remove "${extra}" or correct its spelling` };
    }
    case 'pattern':
      if (field === 'id' || /podcasts\[\d+\]\.id$/.test(field)) {
        return { file, field, message: `"${String(err.data)}" is not a valid id`, fix: 'use lower-case letters, digits and single dashes, e.g. "my-podcast"' };
      }
      if (field.endsWith('accountId')) {
        return { file, field, message: `"${String(err.data)}" is not an AWS account id`, fix: 'use the 12-digit account id, as a string' };
      }
      return { file, field, message: `"${String(err.data)}" does not match ${err.params.pattern}`, fix: 'correct the value' };
    case 'enum':
      return { file, field, message: `"${String(err.data)}" is not allowed`, fix: `use one of ${(err.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}` };
    case 'const':
    case 'oneOf':
      // oneOf branches report a "const" mismatch on `kind`: say it once, for the parent object.
      if (err.keyword === 'const') return undefined;
      return { file, field, message: 'does not match any allowed form', fix: field.startsWith('storage') ? 'use {"kind":"local"}, {"kind":"none"} or {"kind":"s3","bucket":"…","region":"…"}' : 'use {"kind":"local"} or {"kind":"lambda","functionName":"…"}' };
    case 'type':
      return { file, field: field || '(root)', message: `must be ${(err.params as { type: string }).type}`, fix: 'correct the value\'s type' };
    case 'minItems':
      return { file, field, message: 'is empty', fix: 'list at least one podcast' };
    case 'minLength':
      return { file, field, message: 'is empty', fix: 'give it a value' };
    default:
      return { file, field, message: err.message ?? 'is invalid', fix: 'correct the value' };
  }
}

function checkFeedUrl(file: string, field: string, url: string): ConfigProblem | undefined {
  if (url.startsWith('file:')) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { file, field, message: `"${url}" is not a URL`, fix: 'use the feed\'s full http(s):// address, or file:<path relative to the site folder>' };
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return { file, field, message: `"${url}" uses ${parsed.protocol}, which Podline cannot fetch`, fix: 'use an http(s):// or file: URL' };
  }
  return undefined;
}

/** Validate a parsed config; returns every problem found (empty when valid). */
export function validateSiteConfig(raw: unknown, file: string, folderName?: string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const validateSchema = siteConfigValidator();
  if (!validateSchema(raw)) {
    const seen = new Set<string>();
    for (const err of validateSchema.errors ?? []) {
      // A oneOf failure also reports each branch's errors; keep the oneOf summary only.
      if (err.schemaPath.includes('/oneOf/')) continue;
      const p = problemFromAjv(file, err);
      if (!p) continue;
      const key = `${p.field}|${p.message}`;
      if (!seen.has(key)) {
        seen.add(key);
        problems.push(p);
      }
    }
  }
  const cfg = raw as Partial<SiteConfigFile> | null;
  if (cfg && typeof cfg === 'object') {
    if (folderName && typeof cfg.id === 'string' && cfg.id !== folderName) {
      problems.push({ file, field: 'id', message: `"${cfg.id}" does not match the folder name "${folderName}"`, fix: `set "id" to "${folderName}" or rename the folder to "${cfg.id}"` });
    }
    if (Array.isArray(cfg.podcasts)) {
      const ids = new Set<string>();
      cfg.podcasts.forEach((p, i) => {
        if (!p || typeof p !== 'object') return;
        if (typeof p.feedUrl === 'string' && p.feedUrl) {
          const bad = checkFeedUrl(file, `podcasts[${i}].feedUrl`, p.feedUrl);
          if (bad) problems.push(bad);
        }
        if (typeof p.id === 'string') {
          if (ids.has(p.id)) problems.push({ file, field: `podcasts[${i}].id`, message: `"${p.id}" is used by two podcasts`, fix: 'give each podcast its own id' });
          ids.add(p.id);
        }
      });
    }
    if (cfg.index && cfg.index.kind === 'lambda' && !cfg.aws) {
      problems.push({ file, field: 'aws', message: 'is missing, but index.kind is "lambda"', fix: 'add "aws": {"accountId": "<12 digits>"} so Podline can assume the site\'s automation role' });
    }
  }
  return problems;
}

/** Fill in defaults. `raw` must be valid. */
export function normalizeSiteConfig(raw: SiteConfigFile, configFile: string): SiteConfig {
  return {
    id: raw.id,
    title: raw.title,
    siteDir: path.dirname(configFile),
    configFile,
    podcasts: raw.podcasts.map((p) => ({ ...p, active: p.active ?? true })),
    storage: raw.storage ?? { kind: 'local' },
    aws: raw.aws
      ? { accountId: raw.aws.accountId, region: raw.aws.region, automationRoleName: raw.aws.automationRoleName ?? DEFAULT_AUTOMATION_ROLE_NAME }
      : undefined,
    transcription: {
      engine: raw.transcription?.engine ?? 'whisper',
      model: raw.transcription?.model ?? DEFAULT_MODEL,
      language: raw.transcription?.language ?? 'en',
      prompt: raw.transcription?.prompt,
      usePublisherTranscripts: raw.transcription?.usePublisherTranscripts ?? true,
      mode: raw.transcription?.mode ?? 'local',
      queueAttempts: raw.transcription?.queueAttempts ?? 3,
      ...(raw.transcription?.maxEpisodesPerRun ? { maxEpisodesPerRun: raw.transcription.maxEpisodesPerRun } : {}),
      parallel: raw.transcription?.parallel ?? 1,
      vad: raw.transcription?.vad ?? {},
      corrections: path.resolve(path.dirname(configFile), raw.transcription?.corrections ?? 'corrections.txt'),
    },
    downloads: { ...raw.downloads },
    network: { allowPrivateAddresses: raw.network?.allowPrivateAddresses ?? false },
    index: raw.index ?? { kind: 'local' },
  };
}

/**
 * The one reading of a site config's text (the loader, the ingest plugin, the Terraform check and the tools
 * all go through it): the parsed JSON (undefined when it is not JSON) and every problem with file, field and
 * fix. `file` is the path shown in messages; the folder name must match the id.
 */
export function parseSiteConfig(text: string, file: string, folderName: string): { raw?: unknown; problems: ConfigProblem[] } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { problems: [{ file, field: '', message: `is not valid JSON (${(err as Error).message})`, fix: 'correct the JSON syntax' }] };
  }
  return { raw, problems: validateSiteConfig(raw, file, folderName) };
}

/**
 * Load and validate `sites/.../site.config.json`. Throws ConfigError listing every problem
 * (file, field, fix) — never a bare stack trace.
 */
export function loadSiteConfig(configFile: string): SiteConfig {
  const file = path.resolve(configFile);
  const rel = path.relative(process.cwd(), file);
  const shown = rel && !rel.startsWith('..') ? rel : file;
  if (!existsSync(file)) {
    throw new ConfigError([{ file: shown, field: '', message: 'does not exist', fix: 'create it with `nx g site <id>`' }]);
  }
  const { raw, problems } = parseSiteConfig(readFileSync(file, 'utf8'), shown, path.basename(path.dirname(file)));
  if (problems.length) throw new ConfigError(problems);
  return normalizeSiteConfig(raw as SiteConfigFile, file);
}

/** Resolve a podcast's feed URL: `file:` paths are relative to the site folder. */
export function resolveFeedUrl(site: Pick<SiteConfig, 'siteDir'>, feedUrl: string): string {
  if (!feedUrl.startsWith('file:')) return feedUrl;
  if (feedUrl.startsWith('file://')) return feedUrl;
  const rel = feedUrl.slice('file:'.length);
  return 'file://' + path.resolve(site.siteDir, rel);
}

/** The role the automation identity assumes for this site, or undefined without an AWS account. */
export function automationRoleArn(site: Pick<SiteConfig, 'aws'>): string | undefined {
  return site.aws ? `arn:aws:iam::${site.aws.accountId}:role/${site.aws.automationRoleName}` : undefined;
}
