import ffmpeg from 'fluent-ffmpeg';
import type { Readable } from 'node:stream';

/**
 * The only module that touches fluent-ffmpeg (archived upstream): swapping it for a plain spawn
 * later changes this file alone.
 */

export const SAMPLE_RATE = 16000;

export interface PcmProcess {
  /** Raw little-endian float32 samples, 16 kHz mono. */
  stream: Readable;
  /** Settles when ffmpeg exits: resolves on success, rejects with ffmpeg's own error text. */
  done: Promise<void>;
  kill(): void;
}

/** Start ffmpeg decoding `input` to 16 kHz mono float32 PCM on a pipe (no temp files). */
export function spawnPcmDecoder(input: string, ffmpegPath: string): PcmProcess {
  const command = ffmpeg(input)
    .setFfmpegPath(ffmpegPath)
    .inputOptions(['-nostdin', '-hide_banner'])
    .noVideo()
    // Down to mono before resampling: the same samples as `-ac 1 -ar 16000` alone (within 1e-7), ~30 %
    // less ffmpeg time on a stereo 44.1 kHz MP3 (fewer channels through the resampler).
    .audioFilters([`aformat=channel_layouts=mono`, `aresample=${SAMPLE_RATE}`])
    .audioChannels(1)
    .audioFrequency(SAMPLE_RATE)
    .audioCodec('pcm_f32le')
    .format('f32le');
  // fluent-ffmpeg gives ffmpeg 20 ms between closing its output and exiting, then reports "Output stream
  // closed" and kills it; on a busy machine a good decode often takes longer than that to exit. Once the
  // output has ended, every sample has arrived: that is a finished decode (a file with no audio still
  // fails, as zero samples).
  let outputEnded = false;
  const done = new Promise<void>((resolve, reject) => {
    command.on('end', () => resolve());
    command.on('error', (err: Error, _stdout: string | null, stderr: string | null) => {
      if (outputEnded && err.message === 'Output stream closed') return resolve();
      // ffmpeg's last meaningful stderr lines, without banner noise or pointer addresses.
      const detail = [...new Set((stderr ?? '').split('\n').map((l) => l.replace(/ @ 0x[0-9a-f]+\]/g, ']').trim()))]
        .filter((l) => l && !/^(Stream|Duration|Metadata|Input|Output|encoder|title|Press|size=)/.test(l))
        .slice(-3)
        .join(' / ');
      const exited = /ffmpeg exited with code \d+|ffmpeg was killed with signal \w+/.exec(err.message)?.[0];
      reject(new Error((exited ? `${exited}: ${detail}` : `${err.message}${detail ? ` (${detail})` : ''}`).replace(/\s+/g, ' ').trim()));
    });
  });
  done.catch(() => undefined); // callers await it; never an unhandled rejection
  const stream = command.pipe() as unknown as Readable;
  stream.once('end', () => (outputEnded = true));
  return { stream, done, kill: () => command.kill('SIGKILL') };
}
