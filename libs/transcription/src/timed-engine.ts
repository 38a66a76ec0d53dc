import { appendFileSync } from 'node:fs';
import type { EngineSession, TranscriptionEngine } from './engine';

/**
 * An engine of known cost, for tests and benchmarks of the machinery around engines (the job queue, its
 * workers): it really receives the decoded audio window by window (so bad audio fails as with Whisper),
 * spends a fixed time per window (PODLINE_TIMED_ENGINE_MS, default 200 ms) and returns one segment naming
 * the window's length. With PODLINE_TIMED_ENGINE_LOG set, each opened session appends one line (pid) to
 * that file, so a test can count engine runs across processes. Not a site's engine (not in ENGINES): queue
 * workers select it by name (`tools:worker --engine=timed`).
 */
export const timedEngine: TranscriptionEngine = {
  name: 'timed',
  async check() {
    /* needs nothing */
  },
  async open(settings) {
    const ms = Number(process.env.PODLINE_TIMED_ENGINE_MS ?? 200);
    const logFile = process.env.PODLINE_TIMED_ENGINE_LOG;
    if (logFile) appendFileSync(logFile, `${process.pid} ${settings.model}\n`);
    const session: EngineSession = {
      async transcribe(pcm, onProgress) {
        await new Promise((resolve) => setTimeout(resolve, ms));
        const durationMs = (pcm.length * 1000) / 16000;
        onProgress?.(durationMs);
        return [{ startMs: 0, endMs: durationMs, text: `Timed transcript of ${(durationMs / 1000).toFixed(1)} seconds` }];
      },
      async close() {
        /* nothing held */
      },
    };
    return session;
  },
};
