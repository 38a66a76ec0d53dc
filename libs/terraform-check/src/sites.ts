import * as path from 'node:path';
import {
  findSiteConfigs,
  isTempOrJunk,
  normalizeSiteConfig,
  parseSiteConfig,
  type ConfigProblem,
  type SiteConfig,
  type SiteConfigFile,
} from '@podline/config';
import type { WorkspaceReader } from './reader';

export interface DiscoveredSite {
  /** The folder name, which is the site id (the loader insists they match). */
  id: string;
  /** Workspace-relative path of site.config.json. */
  file: string;
  /** The validated config, when it has no problems. */
  config?: SiteConfig;
  problems: ConfigProblem[];
}

/** Validate one site config's text with the same rules the loader applies. */
export function readSiteConfig(file: string, text: string): DiscoveredSite {
  const id = path.posix.basename(path.posix.dirname(file));
  const { raw, problems } = parseSiteConfig(text, file, id);
  if (problems.length) return { id, file, problems };
  return { id, file, config: normalizeSiteConfig(raw as SiteConfigFile, file), problems };
}

/**
 * Every site config: sites/<id>/site.config.json or sites/<group>/<id>/site.config.json (the same
 * layouts the ingest plugin turns into projects), sorted by path.
 */
export function discoverSites(reader: WorkspaceReader): DiscoveredSite[] {
  const texts = new Map<string, string>();
  const isFile = (file: string) => {
    const text = reader.read(file);
    if (text !== undefined) texts.set(file, text);
    return text !== undefined;
  };
  return findSiteConfigs((dir) => reader.children(dir).filter((name) => !isTempOrJunk(name)), isFile)
    .map((file) => readSiteConfig(file, texts.get(file)!))
    .sort((a, b) => a.file.localeCompare(b.file));
}
