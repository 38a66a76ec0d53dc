/**
 * `nx affected` sees the real edges from sites to the plugin and libs they run: one site's config change
 * affects that site only; a lib change affects every site (and every project using the lib).
 */
import * as path from 'node:path';
import { createTempWorkspace, REPO_ROOT, runProcess, type TempWorkspace } from '@podline/testing/temp-workspace';

jest.setTimeout(180_000);

describe('nx affected in a workspace with several sites', () => {
  let ws: TempWorkspace;

  beforeAll(async () => {
    // The plugin and libs are copied in, so they are projects of this workspace.
    ws = createTempWorkspace({ copySources: true });
    for (const id of ['alpha', 'beta', 'gamma']) {
      ws.writeSite(id, { title: id, podcasts: [{ id: 'show', title: 'Show', feedUrl: `https://example.com/${id}.xml` }] });
    }
    ws.writeSite('delta', { title: 'delta', podcasts: [{ id: 'show', title: 'Show', feedUrl: 'https://example.com/d.xml' }] }, 'private');
  });

  afterAll(() => ws?.cleanup());

  async function affected(file: string): Promise<string[]> {
    const res = await ws.nx(['show', 'projects', '--affected', `--files=${file}`, '--json']);
    if (res.code !== 0) throw new Error(res.output);
    return (JSON.parse(res.stdout.slice(res.stdout.indexOf('['))) as string[]).sort();
  }

  it('a site config change affects only that site', async () => {
    expect(await affected('sites/beta/site.config.json')).toEqual(['beta']);
    expect(await affected('sites/private/delta/site.config.json')).toEqual(['delta']);
  });

  it('a lib change affects every site and every project that uses the lib', async () => {
    const fromStorage = await affected('libs/storage/src/sync.ts');
    expect(fromStorage).toEqual(expect.arrayContaining(['alpha', 'beta', 'gamma', 'delta', 'storage']));
    expect(fromStorage).not.toContain('feeds');
    const fromPlugin = await affected('plugins/ingest/src/plugin.ts');
    expect(fromPlugin).toEqual(expect.arrayContaining(['alpha', 'beta', 'gamma', 'delta', 'ingest']));
    expect(fromPlugin).not.toContain('storage');
  });

  it('in this repository, a lib change also affects the plugin that imports it', async () => {
    const res = await runProcess(process.execPath, [path.join(REPO_ROOT, 'node_modules', 'nx', 'dist', 'bin', 'nx.js'), 'show', 'projects', '--affected', '--files=libs/storage/src/sync.ts', '--json'], REPO_ROOT, ws.env);
    if (res.code !== 0) throw new Error(res.output);
    const projects = JSON.parse(res.stdout.slice(res.stdout.indexOf('['))) as string[];
    expect(projects).toEqual(expect.arrayContaining(['storage', 'ingest', 'example']));
    expect(projects).not.toContain('feeds');
  });
});
