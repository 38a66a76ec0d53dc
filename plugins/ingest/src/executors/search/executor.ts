import type { ExecutorContext } from '@nx/devkit';
import * as path from 'node:path';
import { loadSiteConfig, SitePaths } from '@podline/config';
import { resolveSearchOptions, searchSite, type SearchHit } from '@podline/search-index';
import type { Schema } from './schema';

/** One hit as text: "1. Podcast — Episode [hh:mm:ss]" then the snippet. */
export function formatHit(hit: SearchHit, n: number, podcastTitle: string): string {
  return `${n}. ${podcastTitle} — ${hit.episodeTitle} [${hit.timestamp}]\n   ${hit.snippet}`;
}

/** search: query the site's local index and print the best hits (text, or --json). */
export default async function searchExecutor(options: Schema, context: ExecutorContext): Promise<{ success: boolean }> {
  const projectName = context.projectName!;
  const projectRoot = context.projectsConfigurations!.projects[projectName].root;
  const { query, limit, json } = resolveSearchOptions(options);
  try {
    if (!query) throw new Error(`give a query: nx run ${projectName}:search --query="words, \\"a phrase\\" or prefix*"`);
    const site = loadSiteConfig(path.join(context.root, projectRoot, 'site.config.json'));
    const hits = searchSite(new SitePaths(site.id, context.root), site.id, query, limit);
    const titles = new Map(site.podcasts.map((p) => [p.id, p.title]));
    if (json) {
      process.stdout.write(JSON.stringify({ site: site.id, query, hits: hits.map((h) => ({ ...h, podcastTitle: titles.get(h.podcast) ?? h.podcast })) }, null, 2) + '\n');
    } else if (!hits.length) {
      process.stdout.write(`no hits for ${JSON.stringify(query)} in ${site.id}\n`);
    } else {
      process.stdout.write(hits.map((h, i) => formatHit(h, i + 1, titles.get(h.podcast) ?? h.podcast)).join('\n') + '\n');
    }
    return { success: true };
  } catch (err) {
    process.stderr.write(`[${projectName}:search] error: ${(err as Error).message}\n`);
    return { success: false };
  }
}
