#!/usr/bin/env node
// Makes the example site's two short episodes (sites/example/media/*.mp3) without the network:
// speech from espeak-ng when it is installed, else a few seconds of tones. The files are
// gitignored; the example feed's enclosures point at them with relative file: URLs.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const root = path.resolve(__dirname, '..', '..');
const mediaDir = path.join(root, 'sites', 'example', 'media');

const EPISODES = [
  {
    file: 'episode-1.mp3',
    text: 'Welcome to the Example Show. Today we talk about lighthouse keepers and the history of the foghorn.',
    tones: [440, 660],
  },
  {
    file: 'episode-2.mp3',
    text: 'In this episode we visit a beekeeper who explains how honey bees find their way home.',
    tones: [523, 784],
  },
];

function log(msg) {
  process.stdout.write(`[podline] ${msg}\n`);
}

function ffmpegPath() {
  if (process.env.FFMPEG_PATH) return process.env.FFMPEG_PATH;
  const onPath = spawnSync('ffmpeg', ['-version'], { stdio: 'ignore' });
  if (onPath.status === 0) return 'ffmpeg';
  try {
    return require('@ffmpeg-installer/ffmpeg').path;
  } catch {
    return undefined;
  }
}

function hasEspeak() {
  return spawnSync('espeak-ng', ['--version'], { stdio: 'ignore' }).status === 0;
}

function main() {
  const ffmpeg = ffmpegPath();
  if (!ffmpeg) {
    log('no ffmpeg found (PATH, FFMPEG_PATH or @ffmpeg-installer/ffmpeg): the example audio was not made');
    return;
  }
  fs.mkdirSync(mediaDir, { recursive: true });
  const speech = hasEspeak();
  for (const ep of EPISODES) {
    const out = path.join(mediaDir, ep.file);
    if (fs.existsSync(out) && fs.statSync(out).size > 0) continue;
    const tmp = `${out}.${process.pid}.podline-tmp.mp3`;
    let args;
    let wav;
    if (speech) {
      wav = `${out}.${process.pid}.podline-tmp.wav`;
      const r = spawnSync('espeak-ng', ['-w', wav, ep.text], { stdio: 'inherit' });
      if (r.status !== 0) throw new Error(`espeak-ng failed for ${ep.file}`);
      args = ['-y', '-loglevel', 'error', '-i', wav];
    } else {
      const [a, b] = ep.tones;
      args = [
        '-y', '-loglevel', 'error',
        '-f', 'lavfi', '-i', `sine=frequency=${a}:duration=3`,
        '-f', 'lavfi', '-i', `sine=frequency=${b}:duration=3`,
        '-filter_complex', '[0:a][1:a]concat=n=2:v=0:a=1',
      ];
    }
    args.push('-ac', '1', '-ar', '22050', '-c:a', 'libmp3lame', '-b:a', '48k', '-map_metadata', '-1', '-fflags', '+bitexact', '-f', 'mp3', tmp);
    const res = spawnSync(ffmpeg, args, { stdio: 'inherit' });
    if (wav) fs.rmSync(wav, { force: true });
    if (res.status !== 0) {
      fs.rmSync(tmp, { force: true });
      throw new Error(`ffmpeg failed to make ${ep.file}`);
    }
    fs.renameSync(tmp, out);
    log(`made example audio ${path.relative(root, out)} (${speech ? 'speech' : 'tones'})`);
  }
}

main();
