#!/usr/bin/env node
// The one way to run a TypeScript entry point of this workspace (tools and benchmarks), with the workspace's
// path mappings (tsconfig.base.json), as every `tools:*` and `bench:*` target does:
//   node tools/scripts/run-ts.js <file.ts> [options…]
// A module exporting `main(argv, io)` is called with the options and exits with the code it returns; a
// script without `main` simply runs.
'use strict';
const path = require('node:path');
const root = path.resolve(__dirname, '..', '..');
process.env.SWC_NODE_PROJECT = process.env.SWC_NODE_PROJECT || path.join(root, 'tsconfig.base.json');
require('@swc-node/register');
// A closed pipe (`… | head`) is not an error.
process.stdout.on('error', (err) => { if (err.code === 'EPIPE') process.exit(0); throw err; });

const [file, ...argv] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: node tools/scripts/run-ts.js <file.ts> [options…]\n');
  process.exit(2);
}
// The script sees the command line it would see if Node ran it directly: argv[1] is the file, then its options.
process.argv = [process.argv[0], path.resolve(root, file), ...argv];
const mod = require(path.resolve(root, file));
if (typeof mod.main === 'function') {
  const io = {
    out: (line) => process.stdout.write(line + '\n'),
    err: (line) => process.stderr.write(line + '\n'),
    env: process.env,
    cwd: process.cwd(),
    isTTY: !!(process.stdin.isTTY && process.stdout.isTTY),
  };
  Promise.resolve(mod.main(argv, io)).then(
    (code) => process.exit(code ?? 0),
    (err) => {
      process.stderr.write(`${(err && err.stack) || err}\n`);
      process.exit(1);
    },
  );
}
