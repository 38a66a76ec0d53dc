/**
 * Resolve the workspace's `@podline/*` imports from tsconfig.base.json's paths, so the bench runs with a
 * bare `node -r @swc-node/register` (no project tsconfig at the root). Import it first.
 */
import * as path from 'node:path';
import Module = require('node:module');

const root = path.resolve(__dirname, '..', '..');
const paths: Record<string, string[]> = require(path.join(root, 'tsconfig.base.json')).compilerOptions.paths;
type Resolve = (request: string, ...rest: unknown[]) => string;
const mod = Module as unknown as { _resolveFilename: Resolve };
const original = mod._resolveFilename;

mod._resolveFilename = function (this: unknown, request: string, ...rest: unknown[]) {
  if (request.startsWith('@podline/')) {
    const exact = paths[request];
    if (exact) return original.call(this, path.join(root, exact[0]), ...rest);
    for (const [pattern, targets] of Object.entries(paths)) {
      if (pattern.endsWith('/*') && request.startsWith(pattern.slice(0, -1))) {
        return original.call(this, path.join(root, targets[0].replace('*', request.slice(pattern.length - 1))), ...rest);
      }
    }
  }
  return original.call(this, request, ...rest);
} as Resolve;
