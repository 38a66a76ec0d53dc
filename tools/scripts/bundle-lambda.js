#!/usr/bin/env node
// Packages the search-index Lambda (libs/search-index/src/lambda.ts) for Terraform's archive_file:
//   node tools/scripts/bundle-lambda.js [--outdir=dist/search-index-lambda]
// Our TypeScript and the AWS SDK are bundled into one index.js (esbuild: one well-kept dependency that
// does in a second what a hand-made copy of node_modules would do badly). better-sqlite3 is a native addon,
// so it is copied with its two runtime dependencies: build on the Lambda's platform (x86_64 Linux, glibc,
// Node 20), e.g. in an Amazon Linux 2023 container, or the addon will not load there.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..');
const outArg = process.argv.find((a) => a.startsWith('--outdir='));
const outdir = path.resolve(root, outArg ? outArg.slice('--outdir='.length) : path.join('dist', 'search-index-lambda'));

/** A package's folder as Node resolves it from `from`. */
function packageDir(name, from) {
  return path.dirname(require.resolve(`${name}/package.json`, { paths: [from] }));
}

/** Copy only what a package needs at run time: package.json, its JavaScript and built addons. */
function copyPackage(name, from, into) {
  const src = packageDir(name, from);
  const dest = path.join(into, 'node_modules', name);
  fs.cpSync(src, dest, {
    recursive: true,
    filter: (file) => {
      const rel = path.relative(src, file);
      if (!rel) return true;
      const top = rel.split(path.sep)[0];
      // Of the build, only the addon itself (not the static library, objects or test extension).
      if (top === 'build') return rel === 'build' || rel === path.join('build', 'Release') || rel === path.join('build', 'Release', 'better_sqlite3.node');
      return !['deps', 'src', 'docs', 'test', 'node_modules'].includes(top) && !rel.endsWith('.md');
    },
  });
  return src;
}

async function main() {
  const esbuild = require('esbuild');
  const tmp = `${outdir}.podline-tmp`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  await esbuild.build({
    entryPoints: [path.join(root, 'libs', 'search-index', 'src', 'lambda.ts')],
    outfile: path.join(tmp, 'index.js'),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    tsconfig: path.join(root, 'tsconfig.base.json'),
    external: ['better-sqlite3'],
    legalComments: 'none',
    logLevel: 'warning',
  });
  const sqlite = copyPackage('better-sqlite3', root, tmp);
  for (const dep of ['bindings', 'file-uri-to-path']) copyPackage(dep, sqlite, tmp);
  // Replace the previous package whole, so Terraform never zips a half-written folder.
  fs.rmSync(outdir, { recursive: true, force: true });
  fs.renameSync(tmp, outdir);
  const size = fs.statSync(path.join(outdir, 'index.js')).size;
  process.stdout.write(`[podline] Lambda package in ${path.relative(root, outdir) || outdir}: index.js ${(size / 1024).toFixed(0)} KB + better-sqlite3 (built for ${process.platform}-${process.arch}, Node ${process.versions.node})\n`);
}

main().catch((err) => {
  process.stderr.write(`[podline] could not package the Lambda: ${err.message}\n`);
  process.exit(1);
});
