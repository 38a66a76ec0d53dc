import type { TranscriptLink } from '@podline/config';
import { openUrl, readBody, type UrlPolicy } from '@podline/feeds';
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
 * Absolute URL of a transcript link. http(s) and absolute file:// links stand as they are; bare paths resolve
 * against the feed's own URL, and so do relative `file:transcripts/1.srt` links in a `file:` feed (anywhere else
 * they stay file: URLs, which the URL policy refuses).
 */
export function resolveTranscriptUrl(url: string, feedUrl: string): URL {
  if (url.startsWith('file:') && !url.startsWith('file://') && feedUrl.startsWith('file:')) return new URL(url.slice('file:'.length), feedUrl);
  return new URL(url, feedUrl);
}

/** Limits on one publisher transcript: the link comes from a feed or the bucket, so it is untrusted. */
export interface TranscriptFetchOptions {
  /** What the link may reach (see @podline/feeds' untrustedUrlPolicy). Default: http(s) to public hosts only. */
  policy?: UrlPolicy;
  /** Largest transcript accepted, counted after decompression. Default 20 MB (hours of SRT are well under 1 MB). */
  maxBytes?: number;
  /** The whole download must finish within this (ms). Default 60 s. */
  timeoutMs?: number;
}

export const DEFAULT_TRANSCRIPT_MAX_BYTES = 20e6;

/**
 * Fetch a transcript's text through the same guarded HTTP client as feeds and audio: the URL policy on every
 * hop, a size cap after decompression (a gzip bomb stops at the cap), an idle timeout and a whole-request deadline.
 */
export async function fetchTranscriptText(url: URL, options: TranscriptFetchOptions = {}): Promise<string> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const res = await openUrl(url.href, {
    headers: { Accept: 'application/x-subrip, text/vtt, application/json;q=0.9, */*;q=0.5' },
    timeoutMs: Math.min(timeoutMs, 30_000),
    deadlineMs: timeoutMs,
    decompress: true,
    policy: options.policy ?? { allowPrivateAddresses: false },
  });
  const body = await readBody(res, options.maxBytes ?? DEFAULT_TRANSCRIPT_MAX_BYTES);
  return body.toString('utf8');
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
  options: TranscriptFetchOptions = {},
): Promise<{ srt: string; url: string; format: PublisherFormat } | undefined> {
  const picked = pickTranscriptLink(links);
  if (!picked) return undefined;
  const url = resolveTranscriptUrl(picked.link.url, feedUrl);
  let text: string;
  try {
    text = await fetchTranscriptText(url, options);
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
