import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { EngineError, whisperEnv, type EngineSession, type EngineSettings, type TranscriptionEngine } from './engine';
import { checkModel } from './model';
import type { Segment } from './srt';

const WORKER = path.join(__dirname, 'whisper-worker.js');

/** whisper.cpp's sampling strategies (smart-whisper's WhisperSamplingStrategy). */
const GREEDY = 0;
const BEAM_SEARCH = 1;

/** whisper.cpp's own guards against loops and invented text, as both engines pass them. */
export const WHISPER_GUARDS = { entropyThreshold: 2.4, logprobThreshold: -1, temperatureIncrement: 0.2 };

/** whisper_full parameters: greedy unless a beam is asked for (smart-whisper defaults to beam search). */
export function whisperParams(s: EngineSettings): Record<string, unknown> {
  return {
    strategy: s.beamSize > 1 ? BEAM_SEARCH : GREEDY,
    beam_size: Math.max(1, s.beamSize),
    best_of: 5, // whisper.cpp's greedy default, used on temperature fallback
    n_threads: s.threads,
    // Guards inside whisper.cpp: no text from an earlier call as context (the site prompt is still
    // given), and a chunk whose entropy is below 2.4 (repetitive) or whose mean log probability is
    // below −1 is decoded again at a higher temperature (steps of 0.2) unless fallback is off.
    no_context: true,
    entropy_thold: WHISPER_GUARDS.entropyThreshold,
    logprob_thold: WHISPER_GUARDS.logprobThreshold,
    temperature_inc: s.noFallback ? 0 : WHISPER_GUARDS.temperatureIncrement,
    // No blank first token, no non-speech tokens ([MUSIC], ♪…).
    suppress_blank: true,
    suppress_non_speech_tokens: s.suppressNonSpeech !== false,
    language: s.language || 'auto',
    ...(s.prompt ? { initial_prompt: s.prompt } : {}),
  };
}

type Reply =
  | { type: 'loaded' }
  | { type: 'result'; id: number; segments: Segment[] }
  | { type: 'progress'; id: number; ms: number }
  | { type: 'error'; id?: number; message: string };

/**
 * A session on a child process hosting smart-whisper: a native crash (abort on a bad model, segfault,
 * OOM kill) rejects the pending call with the child's last stderr lines and leaves this process intact.
 */
class WorkerSession implements EngineSession {
  private stderr = '';
  private pending?: { resolve: (r: Reply) => void; reject: (e: Error) => void };
  private exited?: string;
  private nextId = 1;

  constructor(private child: ChildProcess) {
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (d: string) => {
      this.stderr = (this.stderr + d).slice(-8000);
    });
    child.on('message', (m: Reply) => {
      if (m.type === 'progress') {
        this.onProgress?.(m.ms);
        return;
      }
      const p = this.pending;
      this.pending = undefined;
      if (m.type === 'error') p?.reject(new EngineError(`whisper failed: ${m.message}${this.stderrTail() ? ` (${this.stderrTail()})` : ''}`));
      else p?.resolve(m);
    });
    child.on('exit', (code, signal) => {
      this.exited = signal ? `signal ${signal}` : `exit code ${code}`;
      const p = this.pending;
      this.pending = undefined;
      const tail = this.stderrTail();
      p?.reject(new EngineError(`the whisper engine process died (${this.exited})${tail ? `: ${tail}` : ''}`));
    });
  }

  /** whisper.cpp's last words on stderr (it says there why a call failed). */
  private stderrTail(): string {
    return this.stderr
      .split('\n')
      .filter((l) => l.trim())
      .slice(-3)
      .join(' / ');
  }

  request(msg: Record<string, unknown>): Promise<Reply> {
    if (this.exited) return Promise.reject(new EngineError(`the whisper engine process is gone (${this.exited})`));
    return new Promise((resolve, reject) => {
      this.stderr = ''; // what whisper.cpp says from here on is about this call
      this.pending = { resolve, reject };
      this.child.send(msg);
    });
  }

  params: Record<string, unknown> = {};
  private onProgress?: (ms: number) => void;

  async transcribe(pcm: Float32Array, onProgress?: (doneMs: number) => void): Promise<Segment[]> {
    this.onProgress = onProgress;
    try {
      const reply = await this.request({ type: 'transcribe', id: this.nextId++, pcm, params: this.params });
      return reply.type === 'result' ? reply.segments : [];
    } finally {
      this.onProgress = undefined;
    }
  }

  async close(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    try {
      this.child.send({ type: 'free' });
    } catch {
      /* channel already closed */
    }
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10000);
    await gone;
    clearTimeout(timer);
  }
}

/** smart-whisper (whisper.cpp linked into Node, built with SIMD by the install). The default engine. */
export const whisperEngine: TranscriptionEngine = {
  name: 'whisper',
  async check(settings) {
    await checkModel(settings.workspaceRoot, settings.model);
  },
  async open(settings) {
    const { file, inspection } = await checkModel(settings.workspaceRoot, settings.model);
    settings.debug?.(`whisper: model ${file} (${inspection.size} bytes, ${inspection.tensors} tensors), ${settings.threads} threads, ${settings.beamSize > 1 ? `beam ${settings.beamSize}` : 'greedy'}`);
    // Plain node (no loader flags of this process): the worker is JavaScript.
    const child = fork(WORKER, [], { execArgv: [], env: whisperEnv(), serialization: 'advanced', stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    const session = new WorkerSession(child);
    session.params = whisperParams(settings);
    try {
      await session.request({ type: 'load', model: file });
    } catch (err) {
      await session.close();
      throw new EngineError(`could not load Whisper model ${file}: ${(err as Error).message}`);
    }
    return session;
  },
};
