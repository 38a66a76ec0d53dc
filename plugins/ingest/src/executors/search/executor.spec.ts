import indexExecutor from '../index/executor';
import { episode, SRT_A, TestWorkspace } from '../index/test-workspace';
import searchExecutor from './executor';

/** Run the search executor, capturing what it prints. */
async function search(ws: TestWorkspace, options: Record<string, unknown>) {
  let out = '';
  let err = '';
  const o = jest.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
  const e = jest.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true));
  try {
    const { success } = await searchExecutor(options, ws.context('garden'));
    return { success, out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

describe('search executor', () => {
  let ws: TestWorkspace;
  beforeEach(() => {
    ws = new TestWorkspace();
    const paths = ws.addSite({ id: 'garden', podcasts: [{ id: 'show', title: 'Garden Hour', feedUrl: 'file:feed.xml' }] });
    ws.writeManifest(paths, [episode('2024-03-01_tomatoes_abc', 'Tomatoes in beds')]);
    ws.writeFile(paths.transcriptFile('show', '2024-03-01_tomatoes_abc'), SRT_A);
  });
  afterEach(() => ws.dispose());

  it('a missing index says to run index first', async () => {
    const r = await search(ws, { query: 'tomatoes' });
    expect(r.success).toBe(false);
    expect(r.err).toContain('site garden has no search index yet (search-index/index.sqlite): run `nx run garden:index` first');
  });

  it('prints podcast, episode title, hh:mm:ss and snippet; --json for machines; --limit', async () => {
    expect((await indexExecutor({}, ws.context('garden'))).success).toBe(true);

    const text = await search(ws, { query: '"water the seedlings"' });
    expect(text.success).toBe(true);
    expect(text.out).toBe('1. Garden Hour — Tomatoes in beds [00:01:02]\n   Remember to [water the seedlings] every morning.\n');

    // --phrase: the same phrase when the shell/Nx ate the quotes; without it the words match anywhere
    expect((await search(ws, { query: 'water the seedlings', phrase: true })).out).toBe(text.out);
    expect((await search(ws, { query: 'seedlings water', phrase: true })).out).toBe('no hits for "\\"seedlings water\\"" in garden\n');
    expect((await search(ws, { query: 'seedlings water' })).out).toContain('[00:01:02]');

    const json = await search(ws, { query: 'tomat*', json: true });
    const parsed = JSON.parse(json.out);
    expect(parsed).toMatchObject({ site: 'garden', query: 'tomat*' });
    expect(parsed.hits).toEqual([
      expect.objectContaining({ podcast: 'show', podcastTitle: 'Garden Hour', episodeTitle: 'Tomatoes in beds', timestamp: '00:00:01', startMs: 1000, snippet: expect.stringContaining('[tomatoes]') }),
    ]);

    expect(JSON.parse((await search(ws, { query: 'the', json: true, limit: 1 })).out).hits).toHaveLength(1);
    expect(JSON.parse((await search(ws, { query: 'the', json: true, limit: 5 })).out).hits).toHaveLength(2);
    expect((await search(ws, { query: 'cucumbers' })).out).toBe('no hits for "cucumbers" in garden\n');
    expect((await search(ws, { query: '' })).success).toBe(false);
  });

  it('a limit that is not a whole number from 1 to 1000 is refused with a clear message (not "datatype mismatch")', async () => {
    for (const limit of [1e20, 0, -3, 2.5, Number.NaN]) {
      const r = await search(ws, { query: 'tomatoes', limit });
      expect(r.success).toBe(false);
      expect(r.err).toMatch(/^\[garden:search\] error: --limit (100000000000000000000|0|-3|2\.5|null) is not a whole number from 1 to 1000\n$/);
      expect(r.err).not.toMatch(/datatype mismatch/);
    }
  });
});
