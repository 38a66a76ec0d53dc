/**
 * Publishing the page: precompressed assets, the version before the current one kept (site.json names both),
 * older versions removed, and the bucket rule (obsoleteWebKey) naming only Podline's own versioned files.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { brotliDecompressSync } from 'node:zlib';
import { buildFullIndex, type EntryFile, type EpisodeToIndex } from '@podline/search-index';
import type { SiteJson } from './page/site-json';
import { obsoleteWebKey, publishSearchPage } from './publish';

const site = { id: 'example', title: 'Example', podcasts: [{ id: 'show', title: 'The Show' }] };

async function ftsIndex(file: string, words: string): Promise<void> {
  const entries = [{ id: '0', podcast: 'show', startMs: 0, endMs: 5000, text: words }];
  const data = { format: 1, episode: { id: 'guid-0', podcast: 'show', fileKey: '2024-01-01_ep_0', title: 'Episode 0', published: '2024-01-01T08:00:00.000Z' }, source: { srtSha256: 'x' }, entries } as EntryFile;
  const episodes: EpisodeToIndex[] = [{ key: 'show/2024-01-01_ep_0', sha256: words, load: async () => data }];
  rmSync(file, { force: true });
  await buildFullIndex(file, episodes);
}

describe('publishSearchPage', () => {
  let dir: string;
  let web: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'podline-publish-'));
    web = path.join(dir, 'web');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const publish = async (words: string, dryRun = false) => {
    const fts = path.join(dir, 'index.sqlite');
    await ftsIndex(fts, words);
    return publishSearchPage({ site, sourceIndex: fts, sourceDigest: words, webDir: web, dryRun });
  };
  const files = () => [...readdirSync(web).filter((f) => /^index-[0-9a-f]{16}\.sqlite$/.test(f)), ...readdirSync(path.join(web, 'assets')).map((f) => `assets/${f}`)].sort();
  const json = () => JSON.parse(readFileSync(path.join(web, 'site.json'), 'utf8')) as SiteJson;

  it('stores the script brotli-compressed, named by the hash of what it decodes to; no wasm, no worker', async () => {
    const first = await publish('harbor foghorn');
    const { app, worker, wasm } = first.siteJson.assets;
    expect(app).toMatch(/^assets\/app-[0-9a-f]{16}\.js\.br$/);
    expect([worker, wasm]).toEqual([undefined, undefined]);
    const script = brotliDecompressSync(readFileSync(path.join(web, app!)));
    expect(readFileSync(path.join(web, app!)).length).toBeLessThan(script.length / 2);
    // The page's reader is in the script itself.
    expect(script.toString()).toContain('SQLite format 3');
    expect(readFileSync(path.join(web, 'index.html'), 'utf8')).toContain(`src="${app}"`);
    expect(first.siteJson.files).toEqual([app, first.siteJson.index.file].sort());
    expect(first.siteJson.index.head % first.siteJson.index.pageSize).toBe(0);
    expect(first.siteJson.previous).toEqual([]);
    // Same inputs: nothing written.
    expect((await publish('harbor foghorn')).written).toEqual([]);
  });

  it('a page of the format before (SQLite worker and wasm): replaced, and its files pruned in turn', async () => {
    const v1 = (await publish('first words')).siteJson;
    // What the format-1 page published: a worker and a wasm beside the script.
    const old = { ...v1, format: 1, assets: { app: v1.assets.app, worker: 'assets/sqlite.worker-00000000000000aa.js.br', wasm: 'assets/sql-wasm-00000000000000aa.wasm.br' } };
    delete (old as { files?: string[] }).files;
    for (const f of [old.assets.worker, old.assets.wasm]) writeFileSync(path.join(web, f), 'old');
    writeFileSync(path.join(web, 'site.json'), JSON.stringify(old));
    const v2 = await publish('first words');
    expect(v2.rebuiltIndex).toBe(true);
    expect(v2.siteJson.previous).toEqual([old.assets.app, v1.index.file, old.assets.worker, old.assets.wasm].sort());
    const v3 = await publish('other words');
    expect(v3.removed).toEqual(expect.arrayContaining([old.assets.worker, old.assets.wasm]));
    expect(existsSync(path.join(web, old.assets.wasm))).toBe(false);
  });

  it('keeps the previous version (an open tab may read it), removes older ones, and says so in site.json', async () => {
    const v1 = (await publish('first words')).siteJson;
    const v2 = (await publish('second words')).siteJson;
    expect(v2.index.file).not.toBe(v1.index.file);
    expect(v2.previous).toEqual(v1.files);
    expect(existsSync(path.join(web, v1.index.file))).toBe(true);
    // A run with nothing new keeps the same previous version (same bytes).
    const again = await publish('second words');
    expect(again.written).toEqual([]);
    expect(json().previous).toEqual(v1.files);

    // An operator's file and a stray name in web/ are never Podline's to remove.
    writeFileSync(path.join(web, 'custom.css'), 'mine');
    writeFileSync(path.join(web, 'index-notahash.sqlite'), 'mine');
    const v3 = await publish('third words');
    expect(v3.removed).toEqual([v1.index.file]);
    expect(v3.siteJson.previous).toEqual(v2.files);
    expect(files()).toEqual([...new Set([...v2.files!, ...v3.siteJson.files!])].sort());
    expect(existsSync(path.join(web, 'custom.css')) && existsSync(path.join(web, 'index-notahash.sqlite'))).toBe(true);

    // The bucket rule: only web/ keys, only versioned names, only those neither version uses.
    const obsolete = obsoleteWebKey(v3.siteJson);
    const old = `web/${v1.index.file}`;
    expect(
      [old, `web/${v2.index.file}`, `web/${v3.siteJson.index.file}`, 'web/custom.css', 'web/index-notahash.sqlite', 'web/site.json', 'web/index.html', 'web/assets/app-0123456789abcdef.js.br', 'audio/show/index-0123456789abcdef.sqlite', v1.index.file].filter(obsolete),
    ).toEqual([old, 'web/assets/app-0123456789abcdef.js.br']);
  });

  it('a dry run writes nothing', async () => {
    const dry = await publish('harbor', true);
    expect(dry.written.length).toBeGreaterThan(0);
    expect(existsSync(web)).toBe(false);
  });
});
