import { PodlineError } from '@podline/config';
import type { Segment } from './srt';

/** Settings an engine transcribes with; also what an episode's source record remembers. */
export interface EngineSettings {
  workspaceRoot: string;
  /** Model name (base.en…) or path, as configured. */
  model: string;
  /** Language code ("en"), or "auto". */
  language: string;
  /** Initial prompt (names, jargon) from the site config. */
  prompt?: string;
  threads: number;
  /** 1 = greedy decoding; more = beam search of that width. */
  beamSize: number;
  /** No temperature fallback (whisper.cpp's -nf): one decoding pass per chunk. Default false. */
  noFallback?: boolean;
  /**
   * Suppress whisper.cpp's non-speech tokens ([, (, ♪, " -"…) while decoding, so no [MUSIC]-style tags are
   * written. Default true. The CLI engine passes it as the binary allows (see whisperCliArgs).
   */
  suppressNonSpeech?: boolean;
  debug?: (msg: string) => void;
}

/** An engine loaded and ready for one episode's windows. Always close it. */
export interface EngineSession {
  /**
   * Transcribe one window of 16 kHz mono float PCM; segment times relative to the window's start.
   * `onProgress`, when the engine can tell, gets the milliseconds of the window done so far.
   */
  transcribe(pcm: Float32Array, onProgress?: (doneMs: number) => void): Promise<Segment[]>;
  close(): Promise<void>;
}

/**
 * A transcription engine. Adding one (a cloud API, say) means one new module implementing this and
 * one entry in ENGINES (engines.ts); nothing else changes.
 */
export interface TranscriptionEngine {
  readonly name: string;
  /** Check what the engine needs (model file, binary) without loading anything; throws ModelError/EngineError. */
  check(settings: EngineSettings): Promise<void>;
  /** Load the model (after checking it) and return a session; throws ModelError/EngineError. */
  open(settings: EngineSettings): Promise<EngineSession>;
}

/** An engine that failed or crashed; the message says what to do. */
export class EngineError extends PodlineError {
  constructor(message: string, fix?: string) {
    super(message, { fix });
  }
}

/**
 * The environment whisper.cpp runs in. OpenMP threads wait for each other at every graph node; by
 * default they spin while waiting, which on a machine doing other work (ffmpeg, another site's task)
 * lets a spinning thread hold a core the others need: measured 2–7× slower. Passive waiting (sleep at
 * once) holds up under a busy neighbour at a small cost on an idle machine (bench/transcribe
 * --contended=true). An operator's own OMP_WAIT_POLICY wins.
 */
export function whisperEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...env, OMP_WAIT_POLICY: env.OMP_WAIT_POLICY || 'passive' };
}
