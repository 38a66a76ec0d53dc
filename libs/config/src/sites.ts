import { existsSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import type { ConfigProblem } from './errors';
import { SITE_CONFIG_FILE } from './load';

/**
 * Where sites live: sites/<id>/site.config.json, or one folder deeper, sites/<group>/<id>/site.config.json
 * (an operator's private sites kept apart). The ingest plugin, the Terraform check and the tools agree on this.
 */
export const SITES_DIR = 'sites';

/** Is this workspace-relative path a site config at one of the two depths? */
export function isSiteConfigPath(file: string): boolean {
  const parts = file.split(/[\\/]/);
  return parts[0] === SITES_DIR && parts[parts.length - 1] === SITE_CONFIG_FILE && (parts.length === 3 || parts.length === 4);
}

/**
 * Workspace-relative paths of every site config, sorted, through two small callbacks (so the same walk
 * serves the disk and an Nx virtual tree): `children` lists a folder's entries, `isFile` tells a file exists.
 */
export function findSiteConfigs(children: (dir: string) => string[], isFile: (file: string) => boolean): string[] {
  const found: string[] = [];
  const visit = (dir: string, depth: number) => {
    for (const name of children(dir)) {
      if (name.startsWith('.') || name === 'node_modules') continue;
      const file = `${dir}/${name}/${SITE_CONFIG_FILE}`;
      if (isFile(file)) found.push(file);
      else if (depth < 2) visit(`${dir}/${name}`, depth + 1);
    }
  };
  visit(SITES_DIR, 1);
  return found.sort();
}

/** Every site config on disk below `workspaceRoot` (workspace-relative paths, sorted). */
export function findSiteConfigsOnDisk(workspaceRoot: string): string[] {
  return findSiteConfigs(
    (dir) => {
      try {
        return readdirSync(path.join(workspaceRoot, dir), { withFileTypes: true })
          .filter((e) => e.isDirectory())
          .map((e) => e.name);
      } catch {
        return [];
      }
    },
    (file) => existsSync(path.join(workspaceRoot, file)),
  );
}

/**
 * Site ids used by more than one folder (`sites/a/show` and `sites/b/show`): id → every folder using it,
 * workspace-relative and sorted. Ids used once are left out. A site's id is its folder's name.
 */
export function siteIdClashes(configFiles: readonly string[]): Map<string, string[]> {
  const byId = new Map<string, string[]>();
  for (const file of configFiles) {
    const dir = path.posix.dirname(file.split(path.sep).join('/'));
    const id = path.posix.basename(dir);
    byId.set(id, [...(byId.get(id) ?? []), dir].sort());
  }
  return new Map([...byId].filter(([, dirs]) => dirs.length > 1));
}

/** The problem of one folder whose site id another folder also uses: names both, says how to fix it. */
export function siteIdClashProblem(siteDir: string, folders: readonly string[]): ConfigProblem {
  const id = path.posix.basename(siteDir);
  const others = folders.filter((f) => f !== siteDir);
  return {
    file: `${siteDir}/${SITE_CONFIG_FILE}`,
    field: 'id',
    message: `site id "${id}" is also used by ${others.join(' and ')}: two sites cannot share an id (their data folders, state and bucket keys would mix)`,
    fix: `rename one of the folders ${[siteDir, ...others].join(', ')} (and its "id") so every site id is unique`,
  };
}
