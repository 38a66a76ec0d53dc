import { findFfmpeg, type FfmpegBinary } from '@podline/media';
import { SileroVad, speechRegions, vadDescription, type GuardCounts, type SpeechRegions, type VadSettings } from '@podline/speech';
import type { EngineSettings, TranscriptionEngine } from './engine';
import type { TranscriptSource } from './records';
import { toSrt } from './srt';
import { transcribeAudio, type AudioProgress } from './transcribe-audio';

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
  speech?: SpeechRegions & { cached: boolean; vadMs: number };
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
  cacheDir: string;
  onProgress?: (p: AudioProgress) => void;
  /** Called once the speech regions are known. */
  onSpeech?: (speech: SpeechRegions & { cached: boolean; vadMs: number }) => void;
}): Promise<EngineTranscript> {
  const { audio, engine, settings, tools, vad } = input;
  const ffmpeg = tools.ffmpeg();
  let speech: (SpeechRegions & { cached: boolean; vadMs: number }) | undefined;
  if (vad) {
    await engine.check(settings); // a missing model fails before the VAD runs
    speech = await speechRegions(audio.file, audio.sha256, input.cacheDir, vad, { ffmpeg, vad: await tools.vad() });
    input.onSpeech?.(speech);
  }
  const session = await engine.open(settings);
  let result;
  try {
    result = await transcribeAudio(audio.file, session, {
      windowSeconds: vad ? vad.windowSeconds : input.windowSeconds,
      speech,
      ffmpeg,
      onProgress: input.onProgress,
    });
  } finally {
    await session.close();
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
    },
    durationSeconds: result.durationSeconds,
    elapsedMs,
    speed,
    speech,
    speechSeconds: result.speechSeconds,
    guards: result.guards,
  };
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
