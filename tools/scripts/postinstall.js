#!/usr/bin/env node
// Runs after `npm install` / `npm ci`: better-sqlite3 from source, the SIMD build of whisper.cpp, then the
// example site's audio.
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');

for (const script of ['build-sqlite.js', 'build-whisper-simd.js', 'make-example-audio.js']) {
  const res = spawnSync(process.execPath, [path.join(__dirname, script)], { stdio: 'inherit' });
  if (res.status !== 0) process.exit(res.status ?? 1);
}
