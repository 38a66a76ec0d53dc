#!/usr/bin/env node
// Rebuilds smart-whisper's whisper.cpp addon with SIMD after `npm install` / `npm ci`.
// smart-whisper's own install builds without -mavx2/-mfma/-mf16c and without OpenMP, which
// makes whisper several times slower than whisper.cpp's CLI on x86-64. We rebuild once, with the
// flags this CPU supports and OpenMP, and leave a marker so later installs skip the rebuild.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const os = require('node:os');
const { spawnSync } = require('node:child_process');
const { nodeGypPath } = require('./node-gyp');

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
  // AVX-512, as whisper.cpp's own `-march=native` build gets it on CPUs that have it.
  const avx512 = {
    avx512f: '-mavx512f',
    avx512bw: '-mavx512bw',
    avx512vl: '-mavx512vl',
    avx512dq: '-mavx512dq',
    avx512vbmi: '-mavx512vbmi',
    avx512_vnni: '-mavx512vnni',
    avx512_bf16: '-mavx512bf16',
  };
  if (flags.has('avx512f')) for (const [flag, opt] of Object.entries(avx512)) if (flags.has(flag)) wanted.push(opt);
  return wanted.join(' ');
}

/**
 * OpenMP for ggml's threads. Without it ggml creates and joins a fresh set of threads for every
 * graph it computes, i.e. for every decoded token: several times slower than the whisper.cpp CLI,
 * which its own build links with OpenMP. PODLINE_WHISPER_OPENMP=0 turns it off.
 */
function openmp() {
  if (process.env.PODLINE_WHISPER_OPENMP === '0' || process.platform === 'darwin' || process.platform === 'win32') return null;
  return { cflags: '-fopenmp -DGGML_USE_OPENMP', ldflags: '-fopenmp' };
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
  const omp = openmp();
  const marker = path.join(pkgDir, 'build', 'Release', '.podline-simd');
  const wantedMarker = JSON.stringify({ flags, openmp: !!omp, node: process.versions.modules });
  if (fs.existsSync(marker) && fs.readFileSync(marker, 'utf8') === wantedMarker) {
    log(`smart-whisper already built with SIMD flags "${flags}"${omp ? ' and OpenMP' : ''}`);
    return;
  }
  if (!flags && !omp) {
    log('no extra SIMD flags for this CPU; keeping the default build');
    return;
  }
  const nodeGyp = nodeGypPath();
  const jobs = String(Math.max(1, os.cpus().length));
  const rebuild = (cflags, ldflags) => {
    const env = {
      ...process.env,
      CFLAGS: `${process.env.CFLAGS ?? ''} ${cflags}`.trim(),
      CXXFLAGS: `${process.env.CXXFLAGS ?? ''} ${cflags}`.trim(),
      LDFLAGS: `${process.env.LDFLAGS ?? ''} ${ldflags}`.trim(),
    };
    return spawnSync(process.execPath, [nodeGyp, 'rebuild', `--jobs=${jobs}`], { cwd: pkgDir, env, stdio: 'inherit' }).status === 0;
  };
  // Best build first; each fallback still leaves a working addon.
  const attempts = [
    ...(omp ? [{ what: `${flags} with OpenMP`, cflags: `${flags} ${omp.cflags}`, ldflags: omp.ldflags, openmp: true }] : []),
    ...(flags ? [{ what: flags, cflags: flags, ldflags: '', openmp: false }] : []),
  ];
  for (const attempt of attempts) {
    log(`rebuilding smart-whisper (whisper.cpp) with ${attempt.what} — about a minute`);
    if (rebuild(attempt.cflags, attempt.ldflags)) {
      fs.writeFileSync(marker, JSON.stringify({ flags, openmp: attempt.openmp, node: process.versions.modules }));
      log(`smart-whisper rebuilt with ${attempt.what}`);
      return;
    }
    log(`the rebuild with ${attempt.what} failed`);
  }
  log('rebuilding without extra flags so transcription still works (slowly)');
  const plain = spawnSync(process.execPath, [nodeGyp, 'rebuild', `--jobs=${jobs}`], { cwd: pkgDir, stdio: 'inherit' });
  process.exit(plain.status ?? 1);
}

main();
