/**
 * Bad options are refused before anything runs, with the option and its allowed range: by Nx from the schema
 * for search, and by the pipeline executors themselves (Nx checks ranges only of "number" options and, in
 * batch mode, crashes without saying why — so their whole-number options are "integer", checked by us).
 */
import { createTempWorkspace, type TempWorkspace } from '@podline/testing/temp-workspace';

jest.setTimeout(180_000);

describe('option validation through nx', () => {
  let ws: TempWorkspace;
  beforeAll(() => {
    ws = createTempWorkspace();
    ws.writeSite('solo', { title: 'Solo', podcasts: [{ id: 'show', title: 'Show', feedUrl: 'https://example.com/feed.xml' }], storage: { kind: 'none' } });
  });
  afterAll(() => ws?.cleanup());

  it.each([
    // search runs alone: Nx's own check speaks.
    [['run', 'solo:search', '--query=x', '--limit=1e20'], /Property 'limit' does not match the schema\. 100000000000000000000 should be at most 1000/],
    [['run', 'solo:search', '--query=x', '--limit=2.5'], /Property 'limit' does not match the schema\. 2\.5 should be a multiple of 1/],
    // The pipeline targets run batched; their own check names the option, its range and where to look.
    [['run', 'solo:pre-sync', '--concurrency=0'], /\[solo:pre-sync\].*invalid option: --concurrency=0 must be >= 1 — see `nx run solo:pre-sync --help`/],
    [['run', 'solo:rss', '--excludeTaskDependencies', '--retries=1e9', '--timeoutSeconds=0.5'], /\[solo:rss\] error: invalid options: (?=.*--retries=1000000000 must be <= 10)(?=.*--timeoutSeconds=0\.5 must be integer)/],
  ])('nx %j is refused', async (args, message) => {
    const res = await ws.nx(args);
    expect(res.code).not.toBe(0);
    expect(res.output).toMatch(message);
    expect(res.output).not.toMatch(/datatype mismatch|UnhandledPromiseRejection/);
  });
});
