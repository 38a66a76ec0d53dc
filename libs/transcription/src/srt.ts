/** One timed piece of transcript text. Times in milliseconds from the start of the episode. */
export interface Segment {
  startMs: number;
  endMs: number;
  text: string;
}

/** `HH:MM:SS,mmm` (rounded to the nearest millisecond; hours may exceed 99). */
export function formatSrtTime(ms: number): string {
  const total = Math.max(0, Math.round(ms));
  const h = Math.floor(total / 3600000);
  const m = Math.floor((total % 3600000) / 60000);
  const s = Math.floor((total % 60000) / 1000);
  const milli = total % 1000;
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(h)}:${p(m)}:${p(s)},${p(milli, 3)}`;
}

/** Parse `HH:MM:SS,mmm`, `HH:MM:SS.mmm` or `MM:SS.mmm` (WebVTT) into milliseconds. */
export function parseTimestamp(text: string): number {
  const m = /^\s*(?:(\d+):)?(\d{1,2}):(\d{1,2})(?:[,.](\d{1,3}))?\s*$/.exec(text);
  if (!m) throw new Error(`bad timestamp "${text}"`);
  const [, h, min, s, frac] = m;
  return ((Number(h ?? 0) * 60 + Number(min)) * 60 + Number(s)) * 1000 + (frac ? Number(frac.padEnd(3, '0')) : 0);
}

/**
 * Segments in order with valid times: text trimmed and blank ones dropped, starts never going
 * back, ends never before their start. SRT readers (and our index) rely on this.
 */
export function normalizeSegments(segments: Segment[]): Segment[] {
  const out: Segment[] = [];
  let lastStart = 0;
  for (const seg of segments) {
    const text = seg.text.replace(/\r/g, '').split('\n').map((l) => l.trim()).filter(Boolean).join('\n');
    if (!text) continue;
    const startMs = Math.max(lastStart, Math.round(seg.startMs));
    const endMs = Math.max(startMs, Math.round(seg.endMs));
    out.push({ startMs, endMs, text });
    lastStart = startMs;
  }
  return out;
}

/** SubRip text of the segments (normalised), numbered from 1. No segments gives an empty file. */
export function toSrt(segments: Segment[]): string {
  return normalizeSegments(segments)
    .map((s, i) => `${i + 1}\n${formatSrtTime(s.startMs)} --> ${formatSrtTime(s.endMs)}\n${s.text}\n`)
    .join('\n');
}

const CUE_TIMES = /^\s*([\d:.,]+)\s*-->\s*([\d:.,]+)/;

/** Cues of SubRip or WebVTT text (cue settings after the end time and VTT headers/notes are ignored). */
function parseCues(text: string): Segment[] {
  const blocks = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n').split(/\n{2,}/);
  const out: Segment[] = [];
  for (const block of blocks) {
    const lines = block.split('\n');
    const at = lines.findIndex((l) => CUE_TIMES.test(l));
    if (at < 0) continue;
    const [, a, b] = CUE_TIMES.exec(lines[at])!;
    // Strip VTT voice/styling tags like <v Speaker> and <c.yellow>.
    const body = lines.slice(at + 1).join('\n').replace(/<[^>]+>/g, '').trim();
    out.push({ startMs: parseTimestamp(a), endMs: parseTimestamp(b), text: body });
  }
  return out;
}

export function parseSrt(text: string): Segment[] {
  return parseCues(text);
}

export function parseVtt(text: string): Segment[] {
  if (!/^\uFEFF?WEBVTT/.test(text)) throw new Error('not a WebVTT file (no WEBVTT header)');
  return parseCues(text);
}

/** The Podcasting 2.0 JSON transcript format: {version, segments: [{startTime, endTime, body, speaker?}]}. */
export function parseJsonTranscript(text: string): Segment[] {
  const doc = JSON.parse(text) as { segments?: Array<{ startTime?: number; endTime?: number; body?: string; speaker?: string }> };
  if (!doc || !Array.isArray(doc.segments)) throw new Error('not a JSON transcript (no "segments" array)');
  return doc.segments
    .filter((s) => typeof s.startTime === 'number' && typeof s.body === 'string')
    .map((s) => ({ startMs: s.startTime! * 1000, endMs: (s.endTime ?? s.startTime!) * 1000, text: s.body! }));
}

/**
 * Check SRT text is well formed: cues numbered 1..n, parseable times, start ≤ end, starts monotonic.
 * Returns the cues; throws naming the first bad cue.
 */
export function validateSrt(text: string): Segment[] {
  if (text.trim() === '') return [];
  const blocks = text.replace(/\r\n?/g, '\n').trim().split(/\n{2,}/);
  const cues: Segment[] = [];
  blocks.forEach((block, i) => {
    const lines = block.split('\n');
    if (lines[0] !== String(i + 1)) throw new Error(`cue ${i + 1}: expected number ${i + 1}, got "${lines[0]}"`);
    const m = /^(\d{2,}:\d{2}:\d{2},\d{3}) --> (\d{2,}:\d{2}:\d{2},\d{3})$/.exec(lines[1] ?? '');
    if (!m) throw new Error(`cue ${i + 1}: bad time line "${lines[1]}"`);
    const seg = { startMs: parseTimestamp(m[1]), endMs: parseTimestamp(m[2]), text: lines.slice(2).join('\n') };
    if (seg.endMs < seg.startMs) throw new Error(`cue ${i + 1}: ends before it starts`);
    if (cues.length && seg.startMs < cues[cues.length - 1].startMs) throw new Error(`cue ${i + 1}: starts before cue ${i}`);
    if (!seg.text.trim()) throw new Error(`cue ${i + 1}: no text`);
    cues.push(seg);
  });
  return cues;
}
