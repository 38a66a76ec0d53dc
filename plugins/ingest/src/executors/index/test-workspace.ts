import type { ExecutorContext, TaskGraph } from '@nx/devkit';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SitePaths, stableStringify, type EpisodeRecord, type SiteConfigFile } from '@podline/config';

/**
 * A throwaway workspace for executor tests: site configs under sites/<id>, data under <root>/data.
 * Executors run for real against it, through the same entry points Nx calls.
 */
export class TestWorkspace {
  readonly root = mkdtempSync(path.join(os.tmpdir(), 'podline-ws-'));
  private readonly savedEnv = { ...process.env };

  constructor(env: Record<string, string | undefined> = {}) {
    // Isolate from the machine's data dir and AWS settings.
    for (const k of ['PODLINE_DATA_DIR', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_REGION', 'AWS_PROFILE', 'PODLINE_STS_ENDPOINT', 'PODLINE_LAMBDA_ENDPOINT', 'PODLINE_S3_ENDPOINT']) {
      delete process.env[k];
    }
    Object.assign(process.env, { PODLINE_RUN_ID: 'test-run', ...env });
  }

  dispose(): void {
    process.env = this.savedEnv;
    rmSync(this.root, { recursive: true, force: true });
  }

  addSite(config: Omit<SiteConfigFile, 'title' | 'podcasts'> & Partial<SiteConfigFile>): SitePaths {
    const full: SiteConfigFile = { title: `Site ${config.id}`, podcasts: [{ id: 'show', title: 'The Show', feedUrl: 'file:feed.xml' }], ...config };
    mkdirSync(path.join(this.root, 'sites', config.id), { recursive: true });
    writeFileSync(path.join(this.root, 'sites', config.id, 'site.config.json'), JSON.stringify(full, null, 2));
    return new SitePaths(config.id, this.root);
  }

  /** `rel`: relative to the workspace root. */
  write(rel: string, text: string): void {
    this.writeFile(path.join(this.root, rel), text);
  }

  writeManifest(paths: SitePaths, episodes: EpisodeRecord[]): void {
    this.writeFile(paths.manifestFile, stableStringify({ version: 1, site: paths.siteId, episodes }));
  }

  writeFile(file: string, text: string): void {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
  }

  context(projectName: string, ids: string[] = [projectName]): ExecutorContext {
    return {
      root: this.root,
      cwd: this.root,
      isVerbose: false,
      projectName,
      projectsConfigurations: { version: 2, projects: Object.fromEntries(ids.map((id) => [id, { root: `sites/${id}` }])) },
      nxJsonConfiguration: {},
      projectGraph: { nodes: {}, dependencies: {} },
    } as unknown as ExecutorContext;
  }

  taskGraph(ids: string[], target: string): TaskGraph {
    const tasks = Object.fromEntries(ids.map((id) => [`${id}:${target}`, { id: `${id}:${target}`, target: { project: id, target }, overrides: {}, outputs: [] }]));
    return { roots: Object.keys(tasks), tasks, dependencies: {}, continuousDependencies: {} } as unknown as TaskGraph;
  }
}

export function episode(fileKey: string, title: string, podcast = 'show'): EpisodeRecord {
  return { id: `guid-${fileKey}`, idSource: 'guid', podcast, fileKey, title, published: '2024-03-01T08:00:00.000Z', status: 'downloaded' };
}

export const SRT_A = `1
00:00:01,000 --> 00:00:05,000
Welcome back to the show about gardening.

2
00:00:05,000 --> 00:00:10,500
Today we plant tomatoes in raised beds.

3
00:01:02,000 --> 00:01:08,000
Remember to water the seedlings every morning.
`;
