#!/usr/bin/env node
// Rebuilds smart-whisper's whisper.cpp addon with SIMD after `npm install` / `npm ci`.
// smart-whisper's own install builds without -mavx2/-mfma/-mf16c, which makes whisper
// about ten times slower on x86-64. We rebuild once, with the flags this CPU supports,
// and leave a marker so later installs skip the rebuild.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const os = require('node:os');
const { spawnSync } = require('node:child_process');

function log(msg) {
  process.stdout.write(`[podline] ${msg}\n`);
}

function simdFlags() {
  if (process.env.PODLINE_WHISPER_CFLAGS !== undefined) return process.env.PODLINE_WHISPER_CFLAGS;
  if (os.arch() !== 'x64') return ''; // arm64 builds use NEON by default
  let cpuinfo = '';
  try {
    cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return '-march=native';
  }
  const flags = new Set((cpuinfo.match(/^flags\s*:(.*)$/m)?.[1] ?? '').trim().split(/\s+/));
  const wanted = [];
  if (flags.has('avx')) wanted.push('-mavx');
  if (flags.has('avx2')) wanted.push('-mavx2');
  if (flags.has('fma')) wanted.push('-mfma');
  if (flags.has('f16c')) wanted.push('-mf16c');
  if (flags.has('sse3')) wanted.push('-msse3');
  if (flags.has('ssse3')) wanted.push('-mssse3');
  return wanted.join(' ');
}

function main() {
  if (process.env.PODLINE_SKIP_WHISPER_REBUILD === '1') {
    log('PODLINE_SKIP_WHISPER_REBUILD=1: leaving smart-whisper as installed');
    return;
  }
  let pkgDir;
  try {
    pkgDir = path.dirname(require.resolve('smart-whisper/package.json'));
  } catch {
    log('smart-whisper is not installed; nothing to rebuild');
    return;
  }
  const flags = simdFlags();
  const marker = path.join(pkgDir, 'build', 'Release', '.podline-simd');
  const wantedMarker = JSON.stringify({ flags, node: process.versions.modules });
  if (fs.existsSync(marker) && fs.readFileSync(marker, 'utf8') === wantedMarker) {
    log(`smart-whisper already built with SIMD flags "${flags}"`);
    return;
  }
  if (!flags) {
    log('no extra SIMD flags for this CPU; keeping the default build');
    return;
  }
  const nodeGyp =
    process.env.npm_config_node_gyp ||
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  log(`rebuilding smart-whisper (whisper.cpp) with ${flags} — about a minute`);
  const env = {
    ...process.env,
    CFLAGS: `${process.env.CFLAGS ?? ''} ${flags}`.trim(),
    CXXFLAGS: `${process.env.CXXFLAGS ?? ''} ${flags}`.trim(),
  };
  const jobs = String(Math.max(1, os.cpus().length));
  const res = spawnSync(process.execPath, [nodeGyp, 'rebuild', `--jobs=${jobs}`], {
    cwd: pkgDir,
    env,
    stdio: 'inherit',
  });
  if (res.status !== 0) {
    log('the SIMD rebuild failed; rebuilding without extra flags so transcription still works (slowly)');
    const plain = spawnSync(process.execPath, [nodeGyp, 'rebuild', `--jobs=${jobs}`], { cwd: pkgDir, stdio: 'inherit' });
    process.exit(plain.status ?? 1);
  }
  fs.writeFileSync(marker, wantedMarker);
  log('smart-whisper rebuilt with SIMD');
}

main();
