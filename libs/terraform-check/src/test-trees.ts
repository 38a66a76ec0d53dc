import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { AUTOMATION_MODULE_DIR, SITES_MODULE_DIR } from './layout';
import { overlay, type PlannedFile } from './new-site';
import type { WorkspaceReader } from './reader';

/** The workspace this lib lives in (tests read the real Terraform modules from it). */
export const WORKSPACE_ROOT = path.resolve(__dirname, '..', '..', '..');

const empty: WorkspaceReader = { read: () => undefined, children: () => [] };

/** An in-memory workspace holding `files`. */
export function memoryTree(files: Record<string, string>): WorkspaceReader {
  return overlay(empty, Object.entries(files).map(([p, content]) => ({ path: p, content })));
}

/** The real modules' .tf files (terraform/sites, terraform/automation), as path -> text. */
export function realModules(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const dir of [SITES_MODULE_DIR, AUTOMATION_MODULE_DIR]) {
    for (const name of readdirSync(path.join(WORKSPACE_ROOT, dir))) {
      if (name.endsWith('.tf')) out[`${dir}/${name}`] = readFileSync(path.join(WORKSPACE_ROOT, dir, name), 'utf8');
    }
  }
  return out;
}

/** Apply planned files to a map of files. */
export function applyFiles(files: Record<string, string>, planned: PlannedFile[]): Record<string, string> {
  const out = { ...files };
  for (const f of planned) out[f.path] = f.content;
  return out;
}
