// Runs one of the tools' TypeScript entry points (tools/src) with the workspace's path mappings.
'use strict';
const path = require('node:path');
const root = path.resolve(__dirname, '..', '..');
process.env.SWC_NODE_PROJECT = process.env.SWC_NODE_PROJECT || path.join(root, 'tsconfig.base.json');
require('@swc-node/register');
// A closed pipe (`… | head`) is not an error.
process.stdout.on('error', (err) => { if (err.code === 'EPIPE') process.exit(0); throw err; });

/** Call `main(argv, io)` of tools/src/<module>.ts and exit with its code. */
module.exports = function runTool(moduleName, exportName) {
  const mod = require(path.join(root, 'tools', 'src', moduleName));
  const io = {
    out: (line) => process.stdout.write(line + '\n'),
    err: (line) => process.stderr.write(line + '\n'),
    env: process.env,
    cwd: process.cwd(),
    isTTY: !!(process.stdin.isTTY && process.stdout.isTTY),
  };
  Promise.resolve(mod[exportName](process.argv.slice(2), io)).then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`${(err && err.stack) || err}\n`);
      process.exit(1);
    },
  );
};
