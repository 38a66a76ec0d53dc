import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

/**
 * The install stays quiet and keeps working when npm enforces allowScripts: every package of the
 * lockfile with an install script is either allowed or denied by name in package.json, the ones whose
 * scripts download from outside the npm registry stay denied, and no .npmrc carries a key npm does not know.
 */
const ROOT = path.resolve(__dirname, '..', '..');
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { allowScripts: Record<string, boolean>; scripts: Record<string, string> };
const lock = JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string; hasInstallScript?: boolean }> };

const withScripts = Object.entries(lock.packages)
  .filter(([where, p]) => where.includes('node_modules/') && p.hasInstallScript)
  .map(([where]) => where.slice(where.lastIndexOf('node_modules/') + 'node_modules/'.length));

describe('install scripts policy', () => {
  it('names every lockfile package that has an install script', () => {
    expect(withScripts.length).toBeGreaterThan(0);
    expect(withScripts.filter((name) => typeof pkg.allowScripts[name] !== 'boolean')).toEqual([]);
  });

  it('uses bare names: the lockfile records no resolved URLs, so npm could not verify a pinned version and would refuse it', () => {
    const withoutResolved = Object.entries(lock.packages).some(([where, p]) => where && !('resolved' in p));
    if (withoutResolved) expect(Object.keys(pkg.allowScripts).filter((k) => /.@/.test(k))).toEqual([]);
    expect(Object.keys(pkg.allowScripts).filter((k) => !withScripts.includes(k))).toEqual([]);
  });

  it('denies the scripts that would fetch binaries from outside the registry, and builds better-sqlite3 itself', () => {
    expect(pkg.allowScripts['onnxruntime-node']).toBe(false);
    expect(pkg.allowScripts['better-sqlite3']).toBe(false);
    expect(readFileSync(path.join(ROOT, 'tools', 'scripts', 'postinstall.js'), 'utf8')).toContain("'build-sqlite.js'");
    expect(pkg.scripts.postinstall).toBe('node tools/scripts/postinstall.js');
  });

  it('has no project .npmrc key that npm 11 reports as unknown', () => {
    const npmrc = path.join(ROOT, '.npmrc');
    const keys = existsSync(npmrc)
      ? readFileSync(npmrc, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#') && !l.startsWith(';')).map((l) => l.split('=')[0].trim())
      : [];
    expect(keys.filter((k) => k === 'build-from-source' || k === 'build_from_source')).toEqual([]);
  });
});
