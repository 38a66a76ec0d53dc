import type { EpisodeRecord } from '@podline/config';
import type { TranscriptSource } from './records';

/**
 * Audio seconds per wall-clock second assumed before this machine has measured its own: what the whisper
 * engine achieved with a model of base.en's shape on two shared cores (bench/transcribe, fixed windows,
 * 3.65× real time on a quiet moment, rounded down; the README's "Your own podcast" says how it was measured). Every local transcript then
 * records its measured speed, and the estimate uses those instead.
 */
export const DEFAULT_SPEED = 3.5;

/** Bytes per second of audio assumed for an episode whose feed gives no duration (128 kbit/s MP3). */
const BYTES_PER_AUDIO_SECOND = 16_000;

/** Measured speeds from this many of the latest matching transcripts are averaged (time-weighted). */
const RECENT = 20;

export interface TranscriptionEstimate {
  episodes: number;
  /** Of them, how many may come from publisher transcripts (tried first, so they may need no engine time). */
  publisher: number;
  /** Audio the engine may have to hear (publisher-transcript episodes left out). */
  audioSeconds: number;
  /** Whether some durations were guessed from file sizes. */
  guessed: boolean;
  /** × real time. */
  speed: number;
  /** Where the speed came from: `measured` over `samples` earlier transcripts here, or the default. */
  speedSource: 'measured' | 'default';
  samples: number;
  /** Episodes the engine hears at once (`transcription.parallel`, at most the engine's episodes). */
  slots: number;
  expectedSeconds: number;
}

/**
 * What a run is about to do and how long it should take: the episodes, their hours of audio (from the feed's
 * durations, else the file sizes), and the expected time at the speed this machine measured on earlier
 * transcripts with the same engine and model (the source records), else DEFAULT_SPEED.
 */
export function estimateTranscription(input: {
  episodes: readonly EpisodeRecord[];
  sources: Record<string, TranscriptSource>;
  engine: string;
  model: string;
  usePublisher: boolean;
  /** `transcription.parallel`: episodes transcribed at once here (default 1). */
  parallel?: number;
}): TranscriptionEstimate {
  let audioSeconds = 0;
  let longest = 0;
  let guessed = false;
  let publisher = 0;
  for (const ep of input.episodes) {
    if (input.usePublisher && ep.transcripts?.length) {
      publisher++;
      continue;
    }
    let seconds = 0;
    if (ep.durationSeconds && ep.durationSeconds > 0) seconds = ep.durationSeconds;
    else if (ep.audio?.size) {
      seconds = ep.audio.size / BYTES_PER_AUDIO_SECOND;
      guessed = true;
    }
    audioSeconds += seconds;
    longest = Math.max(longest, seconds);
  }
  // Local transcripts of this engine and model that recorded their measured speed; the latest ones count.
  const measured = Object.values(input.sources)
    .filter((r) => !r.jobKey && r.engine === input.engine && r.model === input.model && r.durationSeconds && r.speed && r.speed > 0)
    .slice(-RECENT);
  const heard = measured.reduce((n, r) => n + r.durationSeconds!, 0);
  const took = measured.reduce((n, r) => n + r.durationSeconds! / r.speed!, 0);
  const speed = heard > 0 && took > 0 ? heard / took : DEFAULT_SPEED;
  // A record's speed is its episode's audio over that episode's own wall-clock time (transcribe-episode), so
  // with `parallel` episodes at once it is the speed of one slot, measured while the other slots shared the
  // threads. The slots together hear `slots × speed` seconds of audio per second, so the run takes
  // audio / (slots × speed), but never less than its longest episode alone takes (longest / speed): one slot
  // hears it from start to end. This assumes the records were measured with the same `parallel` (a site's
  // setting, so usually true); records of runs with fewer slots (each with more threads) make it optimistic.
  const slots = Math.max(1, Math.min(Math.floor(input.parallel ?? 1), input.episodes.length - publisher));
  return {
    episodes: input.episodes.length,
    publisher,
    audioSeconds,
    guessed,
    speed,
    speedSource: measured.length ? 'measured' : 'default',
    samples: measured.length,
    slots,
    expectedSeconds: Math.max(audioSeconds / (slots * speed), longest / speed),
  };
}

function hours(seconds: number): string {
  const h = seconds / 3600;
  return h >= 10 ? `${Math.round(h)} h` : h >= 1 ? `${h.toFixed(1)} h` : `${Math.max(1, Math.round(seconds / 60))} min`;
}

/** "transcribing 12 episodes (9.5 h of audio for the engine): about 1.4 h at 3.5× real time (measured here over 20 transcripts), 2 episodes at once". */
export function formatEstimate(e: TranscriptionEstimate, dryRun = false): string {
  const verb = dryRun ? 'would transcribe' : 'transcribing';
  const pub = e.publisher ? `${e.publisher} from publisher transcripts first, ` : '';
  if (e.publisher === e.episodes) return `${verb} ${e.episodes} episode${e.episodes === 1 ? '' : 's'}, all from publisher transcripts (no engine time expected)`;
  const speed = `${e.speed.toFixed(1)}× real time (${e.speedSource === 'measured' ? `measured here over ${e.samples} transcript${e.samples === 1 ? '' : 's'}` : 'default until this machine has measured its own'})`;
  const slots = e.slots > 1 ? `, ${e.slots} episodes at once` : '';
  return (
    `${verb} ${e.episodes} episode${e.episodes === 1 ? '' : 's'} (${pub}${e.guessed ? '≈' : ''}${hours(e.audioSeconds)} of audio for the engine): ` +
    `about ${hours(e.expectedSeconds)} at ${speed}${slots}`
  );
}
