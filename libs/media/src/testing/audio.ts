import { execFile } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { findFfmpeg } from '../ffmpeg-binary';

const run = promisify(execFile);

/** Make test audio with ffmpeg's lavfi sine source: an MP3 (or any extension ffmpeg knows). */
export async function makeTone(file: string, seconds: number, frequency = 440, sampleRate = 44100): Promise<string> {
  await fsp.mkdir(path.dirname(file), { recursive: true });
  await run(findFfmpeg().path, [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', `sine=frequency=${frequency}:sample_rate=${sampleRate}:duration=${seconds}`,
    '-ac', '1', ...(file.endsWith('.mp3') ? ['-c:a', 'libmp3lame', '-b:a', '64k'] : []),
    file,
  ]);
  return file;
}
