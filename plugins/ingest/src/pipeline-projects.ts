import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

/** Where the executors live: what they import (and what that imports) is what a site's pipeline runs. */
const PLUGIN_ROOT = path.join(__dirname, '..');
const WORKSPACE_ROOT = path.join(PLUGIN_ROOT, '..', '..');
const IMPORT = /(?:from|import|require\()\s*['"](@podline\/[\w-]+)(?:\/[\w/.-]*)?['"]/g;

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const file = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== '__snapshots__' && e.name !== 'node_modules' && e.name !== 'testing') out.push(...sourceFiles(file));
    } else if (/\.ts$/.test(e.name) && !/\.(spec|test)\.ts$|\.d\.ts$/.test(e.name) && !/^(spec|test)-/.test(e.name)) {
      out.push(file);
    }
  }
  return out;
}

/** The project folder of a `@podline/x` import, from the workspace's path mappings. */
function folderOf(pkg: string, paths: Record<string, string[]>): string | undefined {
  const target = paths[pkg]?.[0];
  if (!target) return undefined;
  const parts = target.split('/');
  return path.join(WORKSPACE_ROOT, parts[0], parts[1]);
}

function projectName(folder: string): string {
  try {
    return JSON.parse(readFileSync(path.join(folder, 'project.json'), 'utf8')).name ?? path.basename(folder);
  } catch {
    return path.basename(folder);
  }
}

/**
 * The projects a site's pipeline runs: the plugin and every lib its executors import, directly or through
 * another lib (production sources only: not specs, not test helpers). Read from the imports themselves, so
 * it cannot drift from the code; a change to any of them affects every site (nx affected, nx graph).
 */
export function pipelineProjects(): string[] {
  let paths: Record<string, string[]> = {};
  try {
    paths = JSON.parse(readFileSync(path.join(WORKSPACE_ROOT, 'tsconfig.base.json'), 'utf8')).compilerOptions?.paths ?? {};
  } catch {
    /* no mappings: only the plugin itself */
  }
  const seen = new Map<string, string>([[PLUGIN_ROOT, projectName(PLUGIN_ROOT)]]);
  const queue = [path.join(PLUGIN_ROOT, 'src', 'executors')];
  while (queue.length) {
    for (const file of sourceFiles(queue.shift()!)) {
      for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) {
        const folder = folderOf(m[1], paths);
        if (!folder || seen.has(folder)) continue;
        seen.set(folder, projectName(folder));
        queue.push(path.join(folder, 'src'));
      }
    }
  }
  return [...seen.values()];
}
