/** One subtitle cue, times in milliseconds, text cleaned to one line. */
export interface Cue {
  startMs: number;
  endMs: number;
  text: string;
}

export interface ParsedSrt {
  cues: Cue[];
  /** Blocks that had text but no valid timing line (reported, never guessed). */
  badBlocks: number;
}

// 00:01:02,345 --> 00:01:05,000 (also '.' as decimal mark, 1–3 fraction digits, optional hours, position suffixes)
const TIMING = /^\s*((?:\d+:)?\d{1,2}:\d{1,2}[,.]\d{1,3})\s*-->\s*((?:\d+:)?\d{1,2}:\d{1,2}[,.]\d{1,3})/;

function toMs(stamp: string): number {
  const [clock, frac] = stamp.split(/[,.]/);
  const parts = clock.split(':').map(Number);
  while (parts.length < 3) parts.unshift(0);
  const [h, m, s] = parts;
  return ((h * 60 + m) * 60 + s) * 1000 + Number(frac.padEnd(3, '0'));
}

/** Cue text as plain words: no markup tags, no ASS overrides, NFC, single spaces. */
export function cleanCueText(raw: string): string {
  return raw
    .replace(/<[^>]*>/g, ' ')
    .replace(/\{\\[^}]*\}/g, ' ')
    .normalize('NFC')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * Parse SRT text. Tolerates a BOM, CRLF, missing or wrong cue numbers and blank-line noise.
 * Cues come back sorted by start (stable), with empty text dropped and end >= start.
 */
export function parseSrt(text: string): ParsedSrt {
  const blocks = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n').split(/\n\s*\n/);
  const cues: Cue[] = [];
  let badBlocks = 0;
  for (const block of blocks) {
    const lines = block.split('\n').filter((l) => l.trim() !== '');
    if (!lines.length) continue;
    const timingAt = lines.findIndex((l) => TIMING.test(l));
    if (timingAt < 0 || timingAt > 1) {
      badBlocks++;
      continue;
    }
    const m = TIMING.exec(lines[timingAt])!;
    const startMs = toMs(m[1]);
    const endMs = Math.max(startMs, toMs(m[2]));
    const cueText = cleanCueText(lines.slice(timingAt + 1).join(' '));
    if (cueText) cues.push({ startMs, endMs, text: cueText });
  }
  // Array.prototype.sort is stable: cues with equal starts keep file order.
  cues.sort((a, b) => a.startMs - b.startMs);
  return { cues, badBlocks };
}
