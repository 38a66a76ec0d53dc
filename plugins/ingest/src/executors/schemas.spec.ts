import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { CONFLICT_MODES, DEFAULT_CONFLICT, SITE_FOLDERS } from '@podline/config';
import { INVOCATION_TYPES, SITE_INVOCATION } from '@podline/aws';
import { RSS_DEFAULTS } from '@podline/feeds';
import { SEARCH_DEFAULTS } from '@podline/search-index';
import { SYNC_DEFAULTS } from '@podline/storage';
import { ENGINES, TRANSCRIBE_DEFAULTS } from '@podline/transcription';
import { COMMON_DEFAULTS } from './common';
import { SERVE_DEFAULTS } from './serve/executor';

/**
 * JSON cannot import: every executor's schema.json repeats its lib's defaults and lists (for `--help` and for
 * Nx's validation). Here each one is checked against the one home of that value.
 */
interface Property {
  type?: string;
  enum?: unknown[];
  default?: unknown;
  items?: { enum?: unknown[] };
}

const executors = JSON.parse(readFileSync(path.join(__dirname, '../../executors.json'), 'utf8')).executors as Record<string, { schema: string }>;
const schemaOf = (name: string) =>
  JSON.parse(readFileSync(path.join(__dirname, '../..', executors[name].schema), 'utf8')) as { properties: Record<string, Property> };

/** Where each executor's option defaults live (its lib's resolve…Options function uses the same object). */
const DEFAULTS: Record<string, Readonly<Record<string, unknown>>> = {
  'pre-sync': SYNC_DEFAULTS,
  check: SYNC_DEFAULTS,
  upload: SYNC_DEFAULTS,
  rss: RSS_DEFAULTS,
  transcribe: TRANSCRIBE_DEFAULTS,
  index: { force: false, invocationType: SITE_INVOCATION },
  search: SEARCH_DEFAULTS,
  serve: SERVE_DEFAULTS,
};

/** Options whose allowed values have a home of their own. */
const ENUMS: Record<string, readonly unknown[]> = {
  conflict: CONFLICT_MODES,
  engine: ['', ...Object.keys(ENGINES)],
  invocationType: [SITE_INVOCATION, ...INVOCATION_TYPES],
};

describe('executor schemas agree with the libs', () => {
  it('every executor is covered', () => {
    expect(Object.keys(executors).sort()).toEqual(Object.keys(DEFAULTS).sort());
  });

  for (const name of Object.keys(executors)) {
    describe(name, () => {
      const props = schemaOf(name).properties;

      it('every default is the one its lib resolves', () => {
        for (const [option, prop] of Object.entries(props)) {
          if (!('default' in prop)) continue;
          const home: Readonly<Record<string, unknown>> = option in COMMON_DEFAULTS && !(option in DEFAULTS[name]) ? COMMON_DEFAULTS : DEFAULTS[name];
          expect({ option, default: home[option] }).toEqual({ option, default: prop.default });
        }
      });

      it('every list of allowed values is the one its lib defines', () => {
        for (const [option, prop] of Object.entries(props)) {
          if (prop.enum) expect({ option, enum: prop.enum }).toEqual({ option, enum: [...(ENUMS[option] ?? ['(no home for this list)'])] });
          if (option === 'folders') expect(prop.items?.enum).toEqual([...SITE_FOLDERS]);
        }
      });
    });
  }

  it('the conflict option is where the sync executors are, with the one default', () => {
    for (const name of ['pre-sync', 'upload']) expect(schemaOf(name).properties.conflict.default).toBe(DEFAULT_CONFLICT);
    expect(SYNC_DEFAULTS.conflict).toBe(DEFAULT_CONFLICT);
  });
});

describe('the schemas themselves', () => {
  // The executors and the site config loader compile them without the meta-schema check (a per-process cost).
  it('every executor schema and the site config schema are valid JSON Schema', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const Ajv = require('ajv').default as typeof import('ajv').default;
    const ajv = new Ajv({ strict: false });
    const site = JSON.parse(readFileSync(path.join(__dirname, '../../../../libs/config/site.config.schema.json'), 'utf8'));
    const { $schema: _draft, ...rest } = site;
    for (const schema of [rest, ...Object.keys(executors).map((name) => { const { $schema: _d, ...s } = schemaOf(name) as unknown as Record<string, unknown>; return s; })]) {
      expect(ajv.validateSchema(schema)).toBe(true);
      expect(ajv.errors ?? null).toBeNull();
    }
  });

  it('the outward-looking executors run from compiled JavaScript, the others from their sources', () => {
    const all = JSON.parse(readFileSync(path.join(__dirname, '../../executors.json'), 'utf8')).executors as Record<string, { implementation: string; batchImplementation?: string }>;
    for (const name of ['pre-sync', 'check', 'rss']) {
      expect(all[name].implementation).toBe(`./compiled.js#${name}`);
      expect(all[name].batchImplementation).toBe(`./compiled.js#${name}:batch`);
    }
  });
});
