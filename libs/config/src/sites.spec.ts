import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { findSiteConfigsOnDisk, isSiteConfigPath } from './sites';

describe('finding sites', () => {
  it('finds sites/<id> and sites/<group>/<id> configs, nothing deeper, no dot-folders', () => {
    const ws = mkdtempSync(path.join(tmpdir(), 'podline-sites-'));
    try {
      for (const rel of ['sites/b', 'sites/a', 'sites/private/c', 'sites/g/h/too-deep', 'sites/.hidden']) {
        mkdirSync(path.join(ws, rel), { recursive: true });
        writeFileSync(path.join(ws, rel, 'site.config.json'), '{}');
      }
      mkdirSync(path.join(ws, 'sites', 'empty'));
      const found = findSiteConfigsOnDisk(ws);
      expect(found).toEqual(['sites/a/site.config.json', 'sites/b/site.config.json', 'sites/private/c/site.config.json']);
      expect(found.every(isSiteConfigPath)).toBe(true);
      expect(findSiteConfigsOnDisk(path.join(ws, 'nowhere'))).toEqual([]);
    } finally {
      rmSync(ws, { recursive: true, force: true });
    }
  });
});
