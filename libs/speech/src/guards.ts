import { deflateRawSync } from 'node:zlib';
import { mapToOriginal, msToSamples, samplesToMs, type SpeechWindow } from './windows';

/** A timed piece of recognised text (milliseconds). */
export interface TimedText {
  startMs: number;
  endMs: number;
  text: string;
}

/** What the guards dropped or changed, by reason: every dropped cue is counted. */
export interface GuardCounts {
  /** The same text again and again (a decoding loop spread over cues). */
  repeated: number;
  /** A cue whose text compresses too well (a loop inside one cue). */
  loop: number;
  /** Text where the VAD heard no speech (past the end of a window's audio, or outside every region). */
  noSpeech: number;
  /** Cues that are only a non-speech tag ([MUSIC], (applause), ♪). */
  nonSpeech: number;
  /** Cues longer than their region, cut to its end. */
  clamped: number;
}

export const emptyGuardCounts = (): GuardCounts => ({ repeated: 0, loop: 0, noSpeech: 0, nonSpeech: 0, clamped: 0 });

export function addGuardCounts(into: GuardCounts, more: GuardCounts): GuardCounts {
  for (const k of Object.keys(into) as Array<keyof GuardCounts>) into[k] += more[k];
  return into;
}

export interface GuardSettings {
  /** Whisper's own loop signal: text whose zlib compression ratio exceeds this is a loop (2.4, as in Whisper). */
  compressionRatio: number;
  /** A text may occur this many times among the last `repeatWindow` cues; more are dropped. */
  maxRepeats: number;
  repeatWindow: number;
}

export const DEFAULT_GUARD_SETTINGS: GuardSettings = { compressionRatio: 2.4, maxRepeats: 2, repeatWindow: 10 };

/** UTF-8 bytes over deflated bytes (Whisper's compression_ratio uses zlib the same way). */
export function compressionRatio(text: string): number {
  const bytes = Buffer.from(text, 'utf8');
  if (!bytes.length) return 0;
  return bytes.length / deflateRawSync(bytes, { level: 9 }).length;
}

const normalise = (text: string) =>
  text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s]/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();

/** Only a tag for non-speech: [MUSIC], (upbeat music), ♪ ♪, *laughs*. */
const NON_SPEECH = /^(?:\s*(?:\[[^\]]*\]|\([^)]*\)|\*[^*]*\*|[♪♫🎵]+)\s*)+$/u;

/**
 * Map one window's segments (times relative to the window) back to the original audio, exactly by
 * sample counts. A segment starting past the window's audio is text where nothing was said (dropped,
 * counted as noSpeech); one that ends in a later piece than it starts — longer than its region — is
 * cut at its region's end (counted as clamped), so every cue lies inside one speech region, in order.
 */
export function mapWindowSegments(window: SpeechWindow, segments: TimedText[], counts: GuardCounts): TimedText[] {
  const out: TimedText[] = [];
  for (const seg of segments) {
    const s = mapToOriginal(window, msToSamples(seg.startMs), 'start');
    if (!s) {
      counts.noSpeech++;
      continue;
    }
    const piece = window.pieces[s.piece];
    const e = mapToOriginal(window, msToSamples(Math.max(seg.endMs, seg.startMs)), 'end');
    let end: number;
    if (!e || e.piece !== s.piece) {
      end = piece.start + piece.length;
      counts.clamped++;
    } else end = Math.max(e.sample, s.sample);
    out.push({ startMs: samplesToMs(s.sample), endMs: samplesToMs(end), text: seg.text });
  }
  return out;
}

/** Drop cues that overlap none of `regions` (sample ranges): text where the VAD heard no speech. */
export function dropOutsideRegions(segments: TimedText[], regions: Array<[number, number]>, counts: GuardCounts): TimedText[] {
  return segments.filter((seg) => {
    const s = msToSamples(seg.startMs);
    const e = Math.max(s + 1, msToSamples(seg.endMs));
    const inside = regions.some(([a, b]) => s < b && e > a);
    if (!inside) counts.noSpeech++;
    return inside;
  });
}

/**
 * Drop Whisper's text failure modes: tag-only cues, cues that compress like a loop, and text that
 * comes back more than `maxRepeats` times within the last `repeatWindow` cues. `history` carries the
 * recent texts across windows (a loop may go on in the next window).
 */
export function guardText(segments: TimedText[], counts: GuardCounts, settings: GuardSettings = DEFAULT_GUARD_SETTINGS, history: string[] = []): TimedText[] {
  const out: TimedText[] = [];
  for (const seg of segments) {
    const text = seg.text.trim();
    if (!text) continue;
    if (NON_SPEECH.test(text)) {
      counts.nonSpeech++;
      continue;
    }
    if (compressionRatio(text) > settings.compressionRatio) {
      counts.loop++;
      continue;
    }
    const key = normalise(text);
    if (key && history.filter((h) => h === key).length >= settings.maxRepeats) {
      counts.repeated++;
      continue;
    }
    history.push(key);
    if (history.length > settings.repeatWindow) history.shift();
    out.push(seg);
  }
  return out;
}
