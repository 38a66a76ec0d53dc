import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { decodePcmWindows, findFfmpeg, type FfmpegBinary, type PcmWindow } from '@podline/media';
import { SileroVad, speechRegions, speechRegionsDir, vadDescription, type GuardCounts, type SpeechRegions, type VadSettings } from '@podline/speech';
import type { EngineSettings, TranscriptionEngine } from './engine';
import type { TranscriptSource } from './records';
import { toSrt } from './srt';
import { fixedWindowSamples, transcribeAudio, type AudioProgress, type AudioTranscript } from './transcribe-audio';

/**
 * What the engine runs of one transcription job share across episodes: the ffmpeg binary and the VAD
 * model, each found or loaded on first use. `close()` releases the VAD's runtime session.
 */
export class EngineTools {
  private ffmpegBinary?: FfmpegBinary;
  private vadModel?: Promise<SileroVad>;

  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  ffmpeg(): FfmpegBinary {
    return (this.ffmpegBinary ??= findFfmpeg(this.env));
  }

  vad(): Promise<SileroVad> {
    return (this.vadModel ??= SileroVad.load());
  }

  async close(): Promise<void> {
    const vad = this.vadModel;
    this.vadModel = undefined;
    if (vad) await (await vad.catch(() => undefined))?.close();
  }
}

/** An episode's audio being decoded ahead of its engine run (fixed windows): see `decodeEpisodeAhead`. */
export interface DecodedAhead {
  windows: AsyncGenerator<PcmWindow>;
  /** Stop the decoder when the episode will not run after all (handed back). */
  close(): void;
}

/**
 * Start decoding an episode's audio into the fixed windows `transcribeEpisodeAudio` will give the engine
 * (no VAD), before its turn: ffmpeg decodes the first window now, so the engine starts on it at once. A
 * queue worker does this for the job it takes ahead while the current job's engine runs. Decoding errors
 * surface when the engine's run reads the windows, as they would without this.
 */
export function decodeEpisodeAhead(file: string, windowSeconds: number | undefined, tools: EngineTools): DecodedAhead {
  const decoder = decodePcmWindows(file, { windowSamples: fixedWindowSamples(windowSeconds), ffmpeg: tools.ffmpeg() });
  const first = decoder.next();
  first.catch(() => undefined);
  let started = false;
  async function* windows(): AsyncGenerator<PcmWindow> {
    started = true;
    try {
      const head = await first;
      if (head.done) return;
      yield head.value;
      yield* decoder;
    } finally {
      await decoder.return(undefined);
    }
  }
  return {
    windows: windows(),
    close() {
      if (!started) decoder.return(undefined).catch(() => undefined);
    },
  };
}

export interface EpisodeAudio {
  file: string;
  sha256: string;
}

export interface EngineTranscript {
  srt: string;
  /** The source record of the transcript (its `transcriptSha256` is the caller's to fill). */
  record: TranscriptSource;
  durationSeconds: number;
  /** Engine and VAD time together. */
  elapsedMs: number;
  /** × real time, VAD included. */
  speed: number;
  /** `pcmFile`: the speech pass's kept decode that Whisper's windows read (removed by the time this returns). */
  speech?: SpeechRegions & { cached: boolean; vadMs: number; pcmFile?: string };
  speechSeconds?: number;
  guards?: GuardCounts;
}

/**
 * One episode's audio through the engine — the same steps wherever it runs (a site's own `transcribe`,
 * a queue worker): speech regions first when `vad` is given (before the engine's threads start; cached per
 * audio hash in `cacheDir`), then the engine over speech-only windows (or fixed windows without VAD).
 */
export async function transcribeEpisodeAudio(input: {
  audio: EpisodeAudio;
  engine: TranscriptionEngine;
  settings: EngineSettings;
  tools: EngineTools;
  /** Speech windows with these settings; undefined: fixed windows of `windowSeconds`. */
  vad?: VadSettings;
  windowSeconds?: number;
  /** Fixed windows only: the audio already being decoded (`decodeEpisodeAhead` with the same `windowSeconds`). */
  decoded?: DecodedAhead;
  cacheDir: string;
  onProgress?: (p: AudioProgress) => void;
  /** Called once the speech regions are known. */
  onSpeech?: (speech: SpeechRegions & { cached: boolean; vadMs: number }) => void;
}): Promise<EngineTranscript> {
  const { audio, engine, settings, tools, vad } = input;
  let result: AudioTranscript;
  const ffmpeg = tools.ffmpeg();
  let speech: (SpeechRegions & { cached: boolean; vadMs: number; pcmFile?: string }) | undefined;
  // The speech pass keeps its decode for Whisper's windows (one decode per episode, not two) in a file
  // of this run's own, removed when the episode is done; one left by a killed run is swept later.
  const keepPcm = vad ? { file: await decodedPcmFile(input.cacheDir), maxBytes: KEEP_PCM_MAX_BYTES } : undefined;
  try {
    if (vad) {
      await engine.check(settings); // a missing model fails before the VAD runs
      speech = await speechRegions(audio.file, audio.sha256, input.cacheDir, vad, { ffmpeg, vad: await tools.vad(), keepPcm });
      input.onSpeech?.(speech);
    }
    const session = await engine.open(settings);
    try {
      result = await transcribeAudio(audio.file, session, {
        windowSeconds: vad ? vad.windowSeconds : input.windowSeconds,
        speech,
        windows: vad ? undefined : input.decoded?.windows,
        pcmFile: speech?.pcmFile,
        ffmpeg,
        onProgress: input.onProgress,
      });
    } finally {
      await session.close();
    }
  } finally {
    if (keepPcm) await fsp.rm(keepPcm.file, { force: true });
  }
  const elapsedMs = result.elapsedMs + (speech?.vadMs ?? 0);
  const speed = elapsedMs > 0 ? (result.durationSeconds * 1000) / elapsedMs : 0;
  return {
    srt: toSrt(result.segments),
    record: {
      source: engine.name,
      engine: engine.name,
      model: settings.model,
      prompt: settings.prompt,
      vad: vad ? vadDescription(vad) : false,
      ...(result.guards ? { guards: { ...result.guards } } : {}),
      audioSha256: audio.sha256,
      transcriptSha256: '',
      // What this machine achieved: later runs estimate their time with it.
      durationSeconds: Math.round(result.durationSeconds),
      speed: +speed.toFixed(3),
    },
    durationSeconds: result.durationSeconds,
    elapsedMs,
    speed,
    speech,
    speechSeconds: result.speechSeconds,
    guards: result.guards,
  };
}

/** The speech pass keeps at most this much decoded audio for Whisper (1 GiB: 4.6 hours); a longer episode is decoded again. */
export const KEEP_PCM_MAX_BYTES = 1024 ** 3;
/** Decoded audio files older than this in the speech-regions folder belong to runs that were killed. */
const STALE_PCM_MS = 24 * 3600 * 1000;

/** Regions folders already swept by this process: the folder holds a cache file per episode, so it is read once, not per episode. */
const sweptDirs = new Set<string>();

/** A new name for an episode's kept decode, after sweeping (once per process) the ones killed runs left behind. */
async function decodedPcmFile(cacheDir: string): Promise<string> {
  const dir = speechRegionsDir(cacheDir);
  const file = path.join(dir, `.decoded-${process.pid}-${randomBytes(6).toString('hex')}.f32`);
  if (sweptDirs.has(dir)) return file;
  sweptDirs.add(dir);
  await fsp.mkdir(dir, { recursive: true });
  for (const name of await fsp.readdir(dir).catch(() => [] as string[])) {
    if (!/^\.decoded-.*\.f32$/.test(name)) continue;
    const st = await fsp.lstat(path.join(dir, name)).catch(() => undefined);
    if (st && Date.now() - st.mtimeMs > STALE_PCM_MS) await fsp.rm(path.join(dir, name), { force: true }).catch(() => undefined);
  }
  return file;
}

/** What the guards dropped, for the log line: `3 repeated, 1 loops`. */
export function droppedText(guards: GuardCounts | undefined): string {
  if (!guards) return '';
  const names: Record<keyof GuardCounts, string> = { repeated: 'repeated', loop: 'loops', noSpeech: 'text without speech', nonSpeech: 'non-speech tags', clamped: 'cut to their region' };
  return (Object.keys(names) as Array<keyof GuardCounts>)
    .filter((k) => guards[k])
    .map((k) => `${guards[k]} ${names[k]}`)
    .join(', ');
}
