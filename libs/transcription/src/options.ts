import * as os from 'node:os';
import { withDefaults, type SiteConfig } from '@podline/config';

export interface TranscribeOptions {
  dryRun?: boolean;
  /** Redo episodes that already have a transcript. */
  force?: boolean;
  /** Whisper threads (0: every core). */
  threads?: number;
  /** 1 = greedy; more = beam search (0 counts as 1). */
  beamSize?: number;
  /** At most this many episodes this run (0: all). */
  maxEpisodes?: number;
  /** Override the site's engine / model ('': the site's own). */
  engine?: string;
  model?: string;
  /** Seconds of audio per engine call (0: 600 without speech windows, the site's vad.windowSeconds (30) with them). */
  windowSeconds?: number;
  /** Queue mode: wait for the site's jobs; give up waiting after waitTimeout seconds (0: 6 h); requeue failed jobs. */
  wait?: boolean;
  waitTimeout?: number;
  retryFailed?: boolean;
  /** Speech windows (voice-activity detection); undefined: the site's transcription.vad.enabled (on by default). */
  vad?: boolean;
}

/**
 * Every default of TranscribeOptions, in one place (the transcribe executor's schema repeats them, checked by a
 * spec). `vad` has none here: absent, the site's own setting decides.
 */
export const TRANSCRIBE_DEFAULTS: Readonly<Required<Omit<TranscribeOptions, 'vad'>>> = Object.freeze({
  dryRun: false,
  force: false,
  threads: 0,
  beamSize: 1,
  maxEpisodes: 0,
  engine: '',
  model: '',
  windowSeconds: 0,
  wait: false,
  waitTimeout: 0,
  retryFailed: false,
});

export function defaultThreads(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

/** What a transcribe run does, every default and the site's own engine and model filled in. */
export interface ResolvedTranscribeOptions {
  dryRun: boolean;
  force: boolean;
  threads: number;
  beamSize: number;
  /** --maxEpisodes, else the site's transcription.maxEpisodesPerRun; Infinity: all. */
  maxEpisodes: number;
  engine: string;
  model: string;
  /** Undefined: the engine's own window. */
  windowSeconds?: number;
  /** Undefined: the site's transcription.vad.enabled. */
  vad?: boolean;
}

export function resolveTranscribeOptions(site: Pick<SiteConfig, 'transcription'>, options: TranscribeOptions = {}): ResolvedTranscribeOptions {
  const o = withDefaults(TRANSCRIBE_DEFAULTS, options);
  return {
    dryRun: o.dryRun,
    force: o.force,
    threads: o.threads > 0 ? o.threads : defaultThreads(),
    beamSize: o.beamSize > 0 ? o.beamSize : 1,
    maxEpisodes: o.maxEpisodes > 0 ? o.maxEpisodes : (site.transcription.maxEpisodesPerRun ?? Infinity),
    engine: o.engine || site.transcription.engine,
    model: o.model || site.transcription.model,
    windowSeconds: o.windowSeconds > 0 ? o.windowSeconds : undefined,
    vad: options.vad,
  };
}
