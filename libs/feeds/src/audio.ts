/** Bytes needed to recognise an audio container. */
export const AUDIO_SNIFF_BYTES = 12;

/**
 * Does this look like the start of an audio file? ID3 tag, MPEG frame sync (MP3/AAC ADTS), MP4/M4A `ftyp`,
 * Ogg, RIFF/WAVE, FLAC. HTML and text bodies (error pages served with 200) are not.
 */
export function looksLikeAudio(head: Uint8Array): boolean {
  if (head.length < 4) return false;
  const ascii = (from: number, to: number) => String.fromCharCode(...head.subarray(from, to));
  if (ascii(0, 3) === 'ID3') return true;
  if (head[0] === 0xff && (head[1] & 0xe0) === 0xe0) return true; // MPEG audio frame sync / ADTS
  if (head.length >= 8 && ascii(4, 8) === 'ftyp') return true;
  if (ascii(0, 4) === 'OggS' || ascii(0, 4) === 'fLaC') return true;
  if (head.length >= 12 && ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WAVE') return true;
  return false;
}

/** A short, printable description of what a non-audio body starts with. */
export function describeHead(head: Uint8Array): string {
  const text = Buffer.from(head).toString('latin1').replace(/\s+/g, ' ').trim();
  if (/^<(!doctype|html|head|body)/i.test(text)) return 'an HTML page';
  return /^[\x20-\x7e]*$/.test(text) ? `text starting with ${JSON.stringify(text.slice(0, 40))}` : 'unrecognised bytes';
}

const VIDEO_BRANDS = new Set(['qt  ', 'M4V ', 'M4VH', 'M4VP', 'mp4v', 'avc1']);

/**
 * Does this look like the start of a video container? QuickTime/M4V `ftyp` brands and Matroska/WebM. Plain MP4
 * brands (isom, mp42) hold audio as often as video: those are judged by the server's Content-Type.
 */
export function looksLikeVideo(head: Uint8Array): boolean {
  if (head.length >= 4 && head[0] === 0x1a && head[1] === 0x45 && head[2] === 0xdf && head[3] === 0xa3) return true;
  if (head.length < 12) return false;
  const ascii = (from: number, to: number) => String.fromCharCode(...head.subarray(from, to));
  return ascii(4, 8) === 'ftyp' && VIDEO_BRANDS.has(ascii(8, 12));
}
