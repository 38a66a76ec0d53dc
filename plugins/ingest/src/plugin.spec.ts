import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createNodes, createDependencies, isSiteConfigPath, PIPELINE_PROJECTS } from './plugin';
import type { CreateDependenciesContext, CreateNodesContext, ProjectConfiguration } from '@nx/devkit';

describe('ingest plugin inference', () => {
  let ws: string;
  const context = (): CreateNodesContext => ({ workspaceRoot: ws, nxJsonConfiguration: {} });

  function site(rel: string, content: unknown) {
    const dir = path.join(ws, rel);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'site.config.json'), typeof content === 'string' ? content : JSON.stringify(content));
    return `${rel}/site.config.json`;
  }

  beforeEach(() => {
    ws = mkdtempSync(path.join(tmpdir(), 'podline-plugin-'));
  });
  afterEach(() => rmSync(ws, { recursive: true, force: true }));

  const config = (id: string, extra = {}) => ({
    id,
    title: `Site ${id}`,
    podcasts: [{ id: 'show', title: 'Show', feedUrl: 'https://example.com/feed.xml' }],
    ...extra,
  });

  it('infers the six chained targets with executors, caching, inputs and outputs', async () => {
    const file = site('sites/alpha', config('alpha'));
    const results = await createNodes[1]([file], {}, context());
    expect(results).toHaveLength(1);
    const [source, result] = results[0];
    expect(source).toBe(file);
    expect(result).toMatchSnapshot();
    const targets = result.projects!['sites/alpha'].targets!;
    expect(Object.keys(targets)).toEqual(['pre-sync', 'check', 'rss', 'transcribe', 'upload', 'index', 'search', 'serve']);
    expect(targets.index.dependsOn).toEqual([{ target: 'upload', params: 'forward' }]);
    expect(targets.rss.cache).toBe(false);
    expect(targets.transcribe.cache).toBe(true);
    // rss also states what the data folder lost of transcribe's and index's products; both hash it.
    expect(targets.rss.outputs).toEqual(['{workspaceRoot}/.podline/state/alpha/rss.json', '{workspaceRoot}/.podline/state/alpha/products.json', '{workspaceRoot}/.podline/state/alpha/backlog.json']);
    expect(targets.index.inputs).toContainEqual({ dependentTasksOutputFiles: '**/products.json', transitive: true });
  });

  it('finds sites one folder deeper and tags them by storage, index and account', async () => {
    const file = site('sites/private/beta', config('beta', { storage: { kind: 's3', bucket: 'beta-bucket', region: 'us-east-1' }, aws: { accountId: '123456789012' } }));
    const [[, result]] = await createNodes[1]([file], {}, context());
    const project = result.projects!['sites/private/beta'];
    expect(project.name).toBe('beta');
    expect(project.tags).toEqual(['site', 'storage:s3', 'index:local', 'aws:123456789012']);
  });

  it('keeps a broken site as a project so only its tasks fail, and explains why', async () => {
    const bad = site('sites/broken', { id: 'broken', title: 'B', podcasts: [{ id: 'x', title: 'X', feedUrl: 'nope' }] });
    const good = site('sites/fine', config('fine'));
    const notJson = site('sites/garbled', '{');
    const results = await createNodes[1]([bad, good, notJson], {}, context());
    expect(results.map(([f]) => f)).toEqual([bad, good, notJson]);
    const broken = results[0][1].projects!['sites/broken'];
    expect(broken.tags).toContain('config:invalid');
    expect(broken.metadata?.description).toMatch(/podcasts\[0\]\.feedUrl/);
    expect(Object.keys(broken.targets!)).toContain('index');
    expect(results[2][1].projects!['sites/garbled'].metadata?.description).toMatch(/not valid JSON/);
  });

  it('two group folders with the same site id: both kept (named by their path), both marked broken, naming each other', async () => {
    const a = site('sites/team-a/show', config('show'));
    const b = site('sites/team-b/show', config('show'));
    const other = site('sites/other', config('other'));
    const results = await createNodes[1]([a, b, other], {}, context());
    const projects = results.map(([, r]) => Object.values(r.projects!)[0]);
    // Distinct names, so the project graph builds (instead of "Failed to process project graph").
    expect(projects.map((p) => p.name)).toEqual(['team-a/show', 'team-b/show', 'other']);
    expect(projects[0].tags).toContain('config:invalid');
    expect(projects[0].metadata?.description).toMatch(
      /sites\/team-a\/show\/site\.config\.json: field "id": site id "show" is also used by sites\/team-b\/show: two sites cannot share an id .*Fix: rename one of the folders sites\/team-a\/show, sites\/team-b\/show/,
    );
    expect(projects[1].metadata?.description).toMatch(/site id "show" is also used by sites\/team-a\/show/);
    expect(projects[2].tags).not.toContain('config:invalid');
  });

  it('ignores config files at other depths', () => {
    expect(isSiteConfigPath('sites/a/site.config.json')).toBe(true);
    expect(isSiteConfigPath('sites/g/a/site.config.json')).toBe(true);
    expect(isSiteConfigPath('sites/site.config.json')).toBe(false);
    expect(isSiteConfigPath('sites/g/h/a/site.config.json')).toBe(false);
    expect(isSiteConfigPath('other/a/site.config.json')).toBe(false);
  });

  it('links every site to the plugin and libs it runs', async () => {
    const projects: Record<string, ProjectConfiguration> = {
      alpha: { name: 'alpha', root: 'sites/alpha', tags: ['site'] },
      ingest: { name: 'ingest', root: 'plugins/ingest' },
      config: { name: 'config', root: 'libs/config' },
      tools: { name: 'tools', root: 'tools' },
    };
    const deps = await createDependencies({}, { projects, workspaceRoot: ws } as unknown as CreateDependenciesContext);
    expect(deps.map((d) => `${d.source}->${d.target}`).sort()).toEqual(['alpha->config', 'alpha->ingest']);
    expect(PIPELINE_PROJECTS).toContain('storage');
  });
});
