import { accessSync, constants } from 'node:fs';
import * as path from 'node:path';
import { PodlineError } from '@podline/config';

/** Which ffmpeg runs, and why that one. */
export interface FfmpegBinary {
  path: string;
  source: 'FFMPEG_PATH' | 'PATH' | '@ffmpeg-installer/ffmpeg';
}

/** ffmpeg is missing or failed; `fix` says what to do when there is something to do. */
export class MediaError extends PodlineError {}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** First executable `name` on PATH (with Windows' PATHEXT), or undefined. */
export function findOnPath(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const exts = process.platform === 'win32' ? (env.PATHEXT ?? '.EXE').split(';') : [''];
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    for (const ext of exts) {
      const candidate = path.join(dir, name + ext);
      if (isExecutable(candidate)) return candidate;
    }
  }
  return undefined;
}

/**
 * ffmpeg to use: $FFMPEG_PATH (must exist), else `ffmpeg` on PATH, else the binary the
 * @ffmpeg-installer/ffmpeg npm package ships (so a fresh `npm ci` is enough).
 */
export function findFfmpeg(env: NodeJS.ProcessEnv = process.env): FfmpegBinary {
  if (env.FFMPEG_PATH) {
    if (!isExecutable(env.FFMPEG_PATH)) {
      throw new MediaError(`FFMPEG_PATH is set to "${env.FFMPEG_PATH}", which is not an executable file; fix or unset FFMPEG_PATH`);
    }
    return { path: env.FFMPEG_PATH, source: 'FFMPEG_PATH' };
  }
  const onPath = findOnPath('ffmpeg', env);
  if (onPath) return { path: onPath, source: 'PATH' };
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const installed = require('@ffmpeg-installer/ffmpeg') as { path: string };
    if (isExecutable(installed.path)) return { path: installed.path, source: '@ffmpeg-installer/ffmpeg' };
  } catch {
    /* package missing or no binary for this platform */
  }
  throw new MediaError('no ffmpeg found: set FFMPEG_PATH, put ffmpeg on PATH, or run `npm ci` (installs @ffmpeg-installer/ffmpeg)');
}
