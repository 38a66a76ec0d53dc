/** What the pipeline tool reads from the workspace: the sites, and which options each phase's executor takes. */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { findSiteConfigsOnDisk, formatProblems, parseSiteConfig } from '@podline/config';
import { PHASES, type Capabilities, type Phase } from './pipeline-plan';

export interface SiteEntry {
  /** The Nx project name: the site's folder name. */
  id: string;
  title: string;
  /** The loader's message when the config has problems (its tasks will fail with it). */
  problems?: string;
}

/** The ingest plugin's package folder and name (nx.json registers it by name). */
const PLUGIN_NAME = '@podline/ingest';
const PLUGIN_DIR = path.join('plugins', 'ingest');

/** sites/<id>/site.config.json and sites/<group>/<id>/site.config.json, as the plugin finds them. */
export function listSites(workspaceRoot: string): SiteEntry[] {
  return findSiteConfigsOnDisk(workspaceRoot)
    .map((file) => {
      const id = path.basename(path.dirname(file));
      const { raw, problems } = parseSiteConfig(readFileSync(path.join(workspaceRoot, file), 'utf8'), file, id);
      const title = (raw as { title?: unknown } | undefined)?.title;
      return { id, title: typeof title === 'string' ? title : id, problems: problems.length ? formatProblems(problems) : undefined };
    })
    .sort((a, b) => a.id.localeCompare(b.id));
}

/** The plugin's targetPrefix option from nx.json (default: none). */
export function readTargetPrefix(workspaceRoot: string): string {
  const nxJson = JSON.parse(readFileSync(path.join(workspaceRoot, 'nx.json'), 'utf8'));
  for (const entry of nxJson.plugins ?? []) {
    if (typeof entry === 'object' && entry?.plugin === PLUGIN_NAME) return entry.options?.targetPrefix ?? '';
  }
  return '';
}

/** For each phase, the options its executor's schema.json accepts ('any' without additionalProperties:false). */
export function readCapabilities(workspaceRoot: string): Capabilities {
  const pluginDir = path.join(workspaceRoot, PLUGIN_DIR);
  const executors = JSON.parse(readFileSync(path.join(pluginDir, 'executors.json'), 'utf8')).executors ?? {};
  const caps = {} as Record<Phase, ReadonlySet<string> | 'any'>;
  for (const phase of PHASES) {
    const schemaRel = executors[phase]?.schema;
    if (!schemaRel) throw new Error(`${path.join(PLUGIN_DIR, 'executors.json')} has no executor "${phase}"`);
    const schema = JSON.parse(readFileSync(path.join(pluginDir, schemaRel), 'utf8'));
    caps[phase] = schema.additionalProperties === false ? new Set(Object.keys(schema.properties ?? {})) : 'any';
  }
  return caps;
}
