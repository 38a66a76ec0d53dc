import Parser from 'rss-parser';
import { PodlineError, type TranscriptLink } from '@podline/config';

/** One item of a feed, as the feed says it (nothing derived yet). */
export interface FeedItem {
  guid?: string;
  title?: string;
  /** ISO 8601, when the feed's date is readable. */
  published?: string;
  durationSeconds?: number;
  /** Plain text (HTML stripped). */
  description?: string;
  episodeNumber?: number;
  seasonNumber?: number;
  enclosure?: { url: string; type?: string; length?: number };
  transcripts: TranscriptLink[];
}

export interface ParsedFeed {
  title?: string;
  items: FeedItem[];
}

/** The feed is not something we can read: malformed XML, an HTML page, not RSS/Atom. */
export class FeedParseError extends PodlineError {}

type RawItem = Record<string, unknown> & {
  guid?: unknown;
  title?: unknown;
  isoDate?: string;
  contentSnippet?: string;
  enclosure?: { url?: string; type?: string; length?: string };
  itunes?: Record<string, unknown>;
};

const parser = new Parser<Record<string, unknown>, RawItem>({
  customFields: {
    // Read these whether or not the feed declares the namespace on <rss> (rss-parser's itunes block needs it).
    item: [
      ['itunes:duration', 'itDuration'],
      ['itunes:episode', 'itEpisode'],
      ['itunes:season', 'itSeason'],
      ['itunes:summary', 'itSummary'],
      ['podcast:transcript', 'podcastTranscripts', { keepArray: true }],
    ] as unknown as string[],
  },
});

/** Longest description kept in the manifest (characters). */
const MAX_DESCRIPTION = 4000;

/** `itunes:duration` in any of its forms: "3723", "3723.4", "62:03", "1:02:03", "1h 2m 3s". */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.round(value) : undefined;
  if (typeof value !== 'string') return undefined;
  const v = value.trim();
  if (!v) return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v));
  if (/^\d+(:\d{1,2}){1,2}(\.\d+)?$/.test(v)) {
    return Math.round(v.split(':').reduce((acc, part) => acc * 60 + Number(part), 0));
  }
  const hms = /^(?:(\d+)\s*h)?\s*(?:(\d+)\s*m(?:in)?)?\s*(?:(\d+)\s*s(?:ec)?)?$/i.exec(v);
  if (hms && (hms[1] || hms[2] || hms[3])) return Number(hms[1] ?? 0) * 3600 + Number(hms[2] ?? 0) * 60 + Number(hms[3] ?? 0);
  return undefined;
}

function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() || undefined;
  if (value && typeof value === 'object' && typeof (value as { _?: unknown })._ === 'string') return text((value as { _: string })._);
  return undefined;
}

function positiveInt(value: unknown): number | undefined {
  const t = text(value);
  if (!t || !/^\d+$/.test(t)) return undefined;
  const n = Number(t);
  return n > 0 && Number.isSafeInteger(n) ? n : undefined;
}

function transcripts(raw: unknown): TranscriptLink[] {
  if (!Array.isArray(raw)) return [];
  const out: TranscriptLink[] = [];
  for (const t of raw) {
    const a = (t as { $?: Record<string, string> })?.$;
    if (!a?.url) continue;
    out.push({ url: a.url.trim(), type: (a.type ?? '').trim(), language: a.language?.trim() || undefined, rel: a.rel?.trim() || undefined });
  }
  return out;
}

function toItem(raw: RawItem): FeedItem {
  const enc = raw.enclosure;
  const description = (raw.contentSnippet ?? text(raw.itSummary) ?? text(raw.itunes?.summary))?.trim();
  return {
    guid: text(raw.guid),
    title: text(raw.title)?.replace(/\s+/g, ' '),
    published: raw.isoDate,
    durationSeconds: parseDuration(text(raw.itDuration)),
    description: description ? description.slice(0, MAX_DESCRIPTION) : undefined,
    episodeNumber: positiveInt(raw.itEpisode),
    seasonNumber: positiveInt(raw.itSeason),
    enclosure: enc?.url?.trim()
      ? { url: enc.url.trim(), type: enc.type?.trim() || undefined, length: positiveInt(enc.length) }
      : undefined,
    transcripts: transcripts(raw.podcastTranscripts),
  };
}

/** What a body starts with, for messages: "<!DOCTYPE html><html>…". */
function preview(body: string, n = 60): string {
  return JSON.stringify(body.trimStart().slice(0, n).replace(/\s+/g, ' '));
}

/** Parse RSS 2.0 (also Atom and RSS 1) with the iTunes and Podcasting 2.0 fields Podline uses. */
export async function parseFeedXml(xml: string): Promise<ParsedFeed> {
  const head = xml.trimStart().slice(0, 512).toLowerCase();
  if (head.startsWith('<!doctype html') || head.startsWith('<html') || /^<\?xml[^>]*>\s*<html/.test(head)) {
    throw new FeedParseError(`got an HTML page, not a feed (starts with ${preview(xml)})`);
  }
  if (!head.startsWith('<')) throw new FeedParseError(`is not XML (starts with ${preview(xml)})`);
  let feed;
  try {
    feed = await parser.parseString(xml);
  } catch (err) {
    const msg = ((err as Error).message ?? String(err)).split('\n').join(', ');
    throw new FeedParseError(/not recognized/i.test(msg) ? `is XML but not an RSS or Atom feed` : `is not well-formed XML (${msg})`);
  }
  return { title: text(feed.title), items: (feed.items ?? []).map(toItem) };
}

/** Decode a feed's bytes: BOM, then Content-Type charset, then the XML declaration; UTF-8 by default. */
export function decodeFeed(bytes: Buffer, contentType?: string): string {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return bytes.subarray(3).toString('utf8');
  const declared =
    /charset=["']?([\w-]+)/i.exec(contentType ?? '')?.[1] ??
    /^<\?xml[^>]*encoding=["']([\w-]+)["']/i.exec(bytes.subarray(0, 200).toString('latin1'))?.[1];
  if (declared && !/^utf-?8$/i.test(declared)) {
    try {
      return new TextDecoder(declared.toLowerCase()).decode(bytes);
    } catch {
      /* unknown label: fall back to UTF-8 */
    }
  }
  return bytes.toString('utf8');
}
