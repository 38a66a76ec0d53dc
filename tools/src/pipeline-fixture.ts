/** Test helpers: a small temp workspace for the pipeline tool, and enquirer driven by scripted keys. */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import Enquirer from 'enquirer';
import { askWith, type Ask } from './pipeline';

const REAL_PLUGIN = path.resolve(__dirname, '..', '..', 'plugins', 'ingest');

function siteConfig(id: string) {
  return {
    id,
    title: `Site ${id}`,
    podcasts: [{ id: `${id}-show`, title: 'A Show', feedUrl: 'https://feeds.example.org/a.xml', active: true }],
    storage: { kind: 'local' },
    transcription: { engine: 'whisper', model: 'base.en', language: 'en' },
    index: { kind: 'local' },
  };
}

/**
 * sites alpha, group/beta and gamma (gamma's config is broken JSON), the real executors.json, and per phase a
 * schema with additionalProperties:false taking dryRun/verbose plus `extra[phase]`.
 */
export function makeWorkspace(extra: Partial<Record<string, string[]>>, targetPrefix?: string): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'podline-pipeline-'));
  writeFileSync(
    path.join(root, 'nx.json'),
    JSON.stringify({ plugins: [{ plugin: '@podline/ingest', include: ['sites/**/site.config.json'], ...(targetPrefix ? { options: { targetPrefix } } : {}) }] }),
  );
  for (const [dir, id] of [['sites/alpha', 'alpha'], ['sites/group/beta', 'beta']]) {
    mkdirSync(path.join(root, dir), { recursive: true });
    writeFileSync(path.join(root, dir, 'site.config.json'), JSON.stringify(siteConfig(id)));
  }
  mkdirSync(path.join(root, 'sites', 'gamma'));
  writeFileSync(path.join(root, 'sites', 'gamma', 'site.config.json'), '{ "id": "gamma", ');
  const plugin = path.join(root, 'plugins', 'ingest');
  mkdirSync(plugin, { recursive: true });
  const executorsJson = readFileSync(path.join(REAL_PLUGIN, 'executors.json'), 'utf8');
  writeFileSync(path.join(plugin, 'executors.json'), executorsJson);
  for (const [name, def] of Object.entries(JSON.parse(executorsJson).executors as Record<string, { schema: string }>)) {
    const props: Record<string, unknown> = { dryRun: { type: 'boolean' }, verbose: { type: 'boolean' } };
    for (const p of extra[name] ?? []) props[p] = { type: 'string' };
    const file = path.join(plugin, def.schema);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify({ type: 'object', properties: props, additionalProperties: false }));
  }
  return root;
}

/** Keys: 'up' | 'down' | 'space' | 'cancel' (what Ctrl+C does) | any single character; the prompt is then submitted. */
export type KeyScript = Record<string, string[]>;

/** Real enquirer prompts on in-memory streams, answered by pressing the scripted keys; records the questions asked. */
export function scriptedAsk(script: KeyScript, asked: string[] = []): Ask {
  const enquirer = new Enquirer({ stdin: new PassThrough(), stdout: new PassThrough(), show: false } as object);
  enquirer.on('prompt', (prompt: { name: string; once: (e: string, f: () => void) => void; keypress: (s: string | null, k?: object) => Promise<void>; submit: () => Promise<void>; cancel: () => Promise<void> }) => {
    asked.push(prompt.name);
    prompt.once('run', async () => {
      const keys = script[prompt.name];
      if (!keys) throw new Error(`unexpected question "${prompt.name}"`);
      for (const key of keys) {
        if (key === 'cancel') return prompt.cancel();
        if (key === 'up' || key === 'down') await prompt.keypress(null, { name: key });
        else if (key === 'space') await prompt.keypress(' ', { name: 'space' });
        else await prompt.keypress(key);
      }
      await prompt.submit();
    });
  });
  return askWith(enquirer);
}
