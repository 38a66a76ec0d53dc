import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SitePaths, stateFile } from './paths';
import { checkProducts, productsState, recordProducts } from './products';

describe('the products ledger', () => {
  let root: string;
  let paths: SitePaths;
  const write = (file: string, text: string) => {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
  };
  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'podline-products-'));
    paths = new SitePaths('demo', root, { PODLINE_DATA_DIR: path.join(root, 'data') });
    write(paths.file('transcripts/show/a.srt'), 'a');
    write(paths.file('transcripts/show/b.srt'), 'b');
    write(stateFile(root, 'demo', 'transcribe'), '{"transcripts":["a","b"]}\n');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('finds nothing lost while the products are as recorded, and nothing claimed without a state file', async () => {
    await recordProducts(paths, root, 'transcribe', ['transcripts/show/b.srt', 'transcripts/show/a.srt']);
    expect(await checkProducts(paths, root, ['transcribe', 'index'])).toEqual({ transcribe: [], index: [] });
  });

  it('names a product that is missing or was rewritten', async () => {
    await recordProducts(paths, root, 'transcribe', ['transcripts/show/a.srt', 'transcripts/show/b.srt']);
    rmSync(paths.file('transcripts/show/a.srt'));
    rmSync(paths.file('transcripts/show/b.srt'));
    write(paths.file('transcripts/show/b.srt'), 'damaged');
    expect(await checkProducts(paths, root, ['transcribe'])).toEqual({ transcribe: ['transcripts/show/a.srt', 'transcripts/show/b.srt'] });
  });

  it('treats a lost ledger, or a state it does not belong to (restored from a cache), as lost', async () => {
    await recordProducts(paths, root, 'transcribe', ['transcripts/show/a.srt']);
    write(stateFile(root, 'demo', 'transcribe'), '{"transcripts":["other"]}\n');
    expect(await checkProducts(paths, root, ['transcribe'])).toEqual({ transcribe: ['(no record)'] });
    rmSync(paths.root, { recursive: true });
    expect(await checkProducts(paths, root, ['transcribe'])).toEqual({ transcribe: ['(no record)'] });
  });

  it('states all-there the same way every run, a loss never twice the same', () => {
    expect(productsState({ transcribe: [], index: [] }, 'run-1')).toEqual(productsState({ transcribe: [], index: [] }, 'run-2'));
    expect(productsState({ transcribe: ['x'], index: [] }, 'run-1')).not.toEqual(productsState({ transcribe: ['x'], index: [] }, 'run-2'));
  });
});
