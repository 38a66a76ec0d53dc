/**
 * Resolve the workspace's `@podline/*` imports from tsconfig.base.json's paths, so the bench runs with a
 * bare `node -r @swc-node/register` (no project tsconfig at the root). Import it first.
 */
import * as path from 'node:path';
import Module = require('node:module');

// The workspace root, or the root of a compiled copy of it (bench/sync/run.ts compiles one).
const root = path.resolve(__dirname, '..', '..');
const paths: Record<string, string[]> = require(path.join(root, 'tsconfig.base.json')).compilerOptions.paths;
// Without the extension: resolves to the .ts source under swc, to the .js file in a compiled copy.
const target = (file: string) => path.join(root, file).replace(/\.ts$/, '');
type Resolve = (request: string, ...rest: unknown[]) => string;
const mod = Module as unknown as { _resolveFilename: Resolve };
const original = mod._resolveFilename;

mod._resolveFilename = function (this: unknown, request: string, ...rest: unknown[]) {
  if (request.startsWith('@podline/')) {
    const exact = paths[request];
    if (exact) return original.call(this, target(exact[0]), ...rest);
    for (const [pattern, targets] of Object.entries(paths)) {
      if (pattern.endsWith('/*') && request.startsWith(pattern.slice(0, -1))) {
        return original.call(this, target(targets[0].replace('*', request.slice(pattern.length - 1))), ...rest);
      }
    }
  }
  return original.call(this, request, ...rest);
} as Resolve;
