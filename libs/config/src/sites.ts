import { existsSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
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
