/**
 * The same site id in two group folders: the project graph still builds, both clashing sites fail with a
 * message naming the two folders (not "Failed to process project graph"), and every other site runs.
 */
import { createTempWorkspace, type TempWorkspace } from '@podline/testing/temp-workspace';

jest.setTimeout(180_000);

describe('one site id in two group folders', () => {
  let ws: TempWorkspace;
  beforeAll(() => {
    ws = createTempWorkspace();
    const config = { title: 'Show', podcasts: [{ id: 'show', title: 'Show', feedUrl: 'https://example.com/feed.xml' }], storage: { kind: 'none' } };
    ws.writeSite('show', config, 'team-a');
    ws.writeSite('show', config, 'team-b');
    ws.writeSite('other', config);
  });
  afterAll(() => ws?.cleanup());

  it('names both folders and lets the other sites run', async () => {
    const projects = await ws.nx(['show', 'projects', '--json']);
    expect(projects.output).not.toMatch(/Failed to process project graph/);
    expect(JSON.parse(projects.stdout.slice(projects.stdout.indexOf('[')))).toEqual(expect.arrayContaining(['team-a/show', 'team-b/show', 'other']));

    const res = await ws.nx(['run-many', '-t', 'pre-sync', '--outputStyle=stream']);
    expect(res.code).not.toBe(0);
    expect(res.output).not.toMatch(/Failed to process project graph/);
    expect(res.output).toMatch(/sites\/team-a\/show\/site\.config\.json: field "id": site id "show" is also used by sites\/team-b\/show/);
    expect(res.output).toMatch(/sites\/team-b\/show\/site\.config\.json: field "id": site id "show" is also used by sites\/team-a\/show/);
    expect(res.output).toMatch(/Fix: rename one of the folders/);
    expect(res.output).toMatch(/\[other:pre-sync\].*storage kind "none"/);
  });
});
