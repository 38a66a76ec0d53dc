import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import executor from './executor';
import { episode, SRT_A, TestWorkspace } from './test-workspace';

/**
 * A data folder whose search-entries/ is a symbolic link to another folder: index stops before writing through
 * it, names the link and the fix, and the other folder is left untouched.
 */
describe('index with a symlinked data folder', () => {
  let ws: TestWorkspace;
  let elsewhere: string;
  beforeEach(() => {
    ws = new TestWorkspace();
    elsewhere = mkdtempSync(path.join(os.tmpdir(), 'podline-elsewhere-'));
    writeFileSync(path.join(elsewhere, 'keep.txt'), 'not Podline\'s');
  });
  afterEach(() => {
    ws.dispose();
    rmSync(elsewhere, { recursive: true, force: true });
  });

  it('fails with the link and the fix, writes nothing through it', async () => {
    const paths = ws.addSite({ id: 'garden', index: { kind: 'local' } });
    ws.writeManifest(paths, [episode('2024-03-01_tomatoes_abc', 'Tomatoes')]);
    ws.writeFile(paths.transcriptFile('show', '2024-03-01_tomatoes_abc'), SRT_A);
    mkdirSync(paths.root, { recursive: true });
    symlinkSync(elsewhere, path.join(paths.root, 'search-entries'));
    const lines: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((s) => (lines.push(String(s)), true));
    const spyErr = jest.spyOn(process.stderr, 'write').mockImplementation((s) => (lines.push(String(s)), true));
    let result;
    try {
      result = await executor({}, ws.context('garden'));
    } finally {
      spy.mockRestore();
      spyErr.mockRestore();
    }
    expect(result.success).toBe(false);
    const link = path.join(paths.root, 'search-entries');
    expect(lines.join('')).toContain(`${link} is a symbolic link; Podline does not follow links inside data folders and buckets — replace ${link} with a real folder or file`);
    expect(readdirSync(elsewhere)).toEqual(['keep.txt']);
  });
});
