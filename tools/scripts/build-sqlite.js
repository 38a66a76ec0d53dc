#!/usr/bin/env node
// Compiles better-sqlite3 (SQLite and its Node binding) from the sources in its npm package.
// Its own install script (`prebuild-install || node-gyp rebuild`) would first try to download a
// prebuilt binary from GitHub; package.json's allowScripts denies that script, and this step does
// the node-gyp half of it, so nothing is fetched from outside the npm registry. A marker with the
// Node ABI lets later installs skip the build.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { nodeGypPath } = require('./node-gyp');

function log(msg) {
  process.stdout.write(`[podline] ${msg}\n`);
}

function main() {
  let pkgDir;
  try {
    pkgDir = path.dirname(require.resolve('better-sqlite3/package.json'));
  } catch {
    log('better-sqlite3 is not installed; nothing to build');
    return;
  }
  const addon = path.join(pkgDir, 'build', 'Release', 'better_sqlite3.node');
  const marker = path.join(pkgDir, 'build', 'Release', '.podline-built');
  const wanted = JSON.stringify({ node: process.versions.modules, platform: process.platform, arch: process.arch });
  if (fs.existsSync(addon) && fs.existsSync(marker) && fs.readFileSync(marker, 'utf8') === wanted) {
    log('better-sqlite3 already built from source');
    return;
  }
  log('building better-sqlite3 (SQLite) from source — about a minute');
  const jobs = String(Math.max(1, os.cpus().length));
  const res = spawnSync(process.execPath, [nodeGypPath(), 'rebuild', '--release', `--jobs=${jobs}`], { cwd: pkgDir, stdio: 'inherit' });
  if (res.status !== 0) {
    log('building better-sqlite3 failed: it needs python3, make and a C++ compiler (g++ or clang++). Install them, then run `npm rebuild` or `node tools/scripts/build-sqlite.js`');
    process.exit(res.status ?? 1);
  }
  fs.writeFileSync(marker, wanted);
  log('better-sqlite3 built');
}

main();
