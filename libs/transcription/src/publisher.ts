import { promises as fsp } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { TranscriptLink } from '@podline/config';
import { parseJsonTranscript, parseSrt, parseVtt, toSrt, type Segment } from './srt';

/** Formats of publisher transcripts we can turn into SRT, best first. */
export type PublisherFormat = 'srt' | 'vtt' | 'json';
const PREFERENCE: PublisherFormat[] = ['srt', 'vtt', 'json'];

/** The format of a `podcast:transcript` link, from its MIME type, else its URL's extension. */
export function linkFormat(link: TranscriptLink): PublisherFormat | undefined {
  const type = (link.type ?? '').toLowerCase();
  if (/subrip|\bsrt\b/.test(type)) return 'srt';
  if (/vtt/.test(type)) return 'vtt';
  if (/json/.test(type)) return 'json';
  if (type && !/octet-stream|text\/plain/.test(type)) return undefined; // text/html etc.: not timed
  const ext = /\.(srt|vtt|json)(?:[?#]|$)/i.exec(link.url)?.[1]?.toLowerCase();
  return ext as PublisherFormat | undefined;
}

/** The best usable link (SRT, then WebVTT, then JSON), or undefined. */
export function pickTranscriptLink(links: TranscriptLink[] | undefined): { link: TranscriptLink; format: PublisherFormat } | undefined {
  const usable = (links ?? []).flatMap((link) => {
    const format = linkFormat(link);
    return format ? [{ link, format }] : [];
  });
  usable.sort((a, b) => PREFERENCE.indexOf(a.format) - PREFERENCE.indexOf(b.format));
  return usable[0];
}

/**
 * Absolute URL of a transcript link. http(s) and absolute file:// links stand as they are;
 * relative ones (`file:transcripts/1.srt` or a bare path) resolve against the feed's own URL.
 */
export function resolveTranscriptUrl(url: string, feedUrl: string): URL {
  if (url.startsWith('file:') && !url.startsWith('file://')) return new URL(url.slice('file:'.length), feedUrl);
  return new URL(url, feedUrl);
}

/** Fetch a transcript's text: Node's fetch for http(s), the file system for file: URLs. */
export async function fetchTranscriptText(url: URL, timeoutMs = 60000): Promise<string> {
  if (url.protocol === 'file:') return fsp.readFile(fileURLToPath(url), 'utf8');
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`unsupported transcript URL scheme ${url.protocol}`);
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'follow' });
  if (!res.ok) throw new Error(`HTTP ${res.status} ${res.statusText}`.trim());
  return res.text();
}

export function parsePublisherTranscript(text: string, format: PublisherFormat): Segment[] {
  switch (format) {
    case 'srt':
      return parseSrt(text);
    case 'vtt':
      return parseVtt(text);
    case 'json':
      return parseJsonTranscript(text);
  }
}

/** Download the best publisher transcript of an episode and convert it to SRT text. */
export async function publisherTranscriptSrt(
  links: TranscriptLink[] | undefined,
  feedUrl: string,
): Promise<{ srt: string; url: string; format: PublisherFormat } | undefined> {
  const picked = pickTranscriptLink(links);
  if (!picked) return undefined;
  const url = resolveTranscriptUrl(picked.link.url, feedUrl);
  let text: string;
  try {
    text = await fetchTranscriptText(url);
  } catch (err) {
    throw new Error(`could not fetch the publisher transcript ${url.href}: ${(err as Error).message}`);
  }
  let segments: Segment[];
  try {
    segments = parsePublisherTranscript(text, picked.format);
  } catch (err) {
    throw new Error(`the publisher transcript ${url.href} is not valid ${picked.format.toUpperCase()}: ${(err as Error).message}`);
  }
  if (segments.length === 0) throw new Error(`the publisher transcript ${url.href} has no timed text`);
  return { srt: toSrt(segments), url: picked.link.url, format: picked.format };
}
