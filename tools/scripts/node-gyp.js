// Where node-gyp is, for the install steps that compile native addons: npm hands its own to lifecycle
// scripts (npm_config_node_gyp); otherwise the copy bundled with the npm beside this node.
'use strict';
const path = require('node:path');

function nodeGypPath() {
  return (
    process.env.npm_config_node_gyp ||
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js')
  );
}

module.exports = { nodeGypPath };
