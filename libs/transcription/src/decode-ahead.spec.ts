import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { makeTone } from '@podline/media/testing';
import { decodeEpisodeAhead, EngineTools, timedEngine, transcribeEpisodeAudio } from './index';

/** ffmpeg processes this process started that are still alive (Linux /proc). */
function ffmpegChildren(): number {
  let n = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === process.pid && /\(ffmpeg\)/.test(stat)) n++;
    } catch {
      /* gone meanwhile */
    }
  }
  return n;
}

async function until(what: string, probe: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('decodeEpisodeAhead (a queue worker decodes the job it took ahead during the one before)', () => {
  let dir: string;
  let tools: EngineTools;
  const saved = process.env.PODLINE_TIMED_ENGINE_MS;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'podline-ahead-'));
    tools = new EngineTools();
    process.env.PODLINE_TIMED_ENGINE_MS = '5';
  });
  afterAll(async () => {
    process.env.PODLINE_TIMED_ENGINE_MS = saved;
    await tools.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives the engine the same windows, so the same transcript, as decoding on its turn', async () => {
    const file = await makeTone(path.join(dir, 'tone.mp3'), 3.5, 440);
    const settings = { workspaceRoot: dir, model: 'timed', language: 'en', threads: 1, beamSize: 1 };
    const run = (decoded?: ReturnType<typeof decodeEpisodeAhead>) =>
      transcribeEpisodeAudio({ audio: { file, sha256: 'x' }, engine: timedEngine, settings, tools, windowSeconds: 1, cacheDir: dir, decoded });
    const plain = await run();
    const ahead = await run(decodeEpisodeAhead(file, 1, tools));
    expect(plain.srt.split('\n\n').filter(Boolean)).toHaveLength(4);
    expect(ahead.srt).toBe(plain.srt);
    expect(ahead.durationSeconds).toBe(plain.durationSeconds);
    await until('no ffmpeg left', () => ffmpegChildren() === 0);
  });

  it('a job handed back before its turn stops its decoder', async () => {
    const file = await makeTone(path.join(dir, 'long.mp3'), 60, 330);
    const decoded = decodeEpisodeAhead(file, 10, tools);
    // The first window is decoded; ffmpeg waits on the full pipe for the rest.
    await until('ffmpeg to be decoding', () => ffmpegChildren() === 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(ffmpegChildren()).toBe(1);
    decoded.close();
    await until('ffmpeg to be stopped', () => ffmpegChildren() === 0);
  });
});
