import { PodlineError, stripControl, type TranscriptLink } from '@podline/config';

/** One item of a feed, as the feed says it (nothing derived yet). Every text is free of control characters. */
export interface FeedItem {
  /** RSS `<guid>`, or Atom `<id>`: the publisher's identity of the entry. */
  guid?: string;
  title?: string;
  /** ISO 8601, when the feed's date is readable. */
  published?: string;
  durationSeconds?: number;
  /** Plain text (HTML stripped). */
  description?: string;
  episodeNumber?: number;
  seasonNumber?: number;
  /**
   * The media to fetch: an audio enclosure (RSS `<enclosure>`, Atom `<link rel="enclosure">`), else an audio
   * `podcast:alternateEnclosure`, else one of unknown type, else a video one (`video: true`).
   */
  enclosure?: { url: string; type?: string; length?: number; video?: boolean };
  transcripts: TranscriptLink[];
}

export interface ParsedFeed {
  title?: string;
  /** `itunes:new-feed-url`: the publisher says the feed moved there. */
  newFeedUrl?: string;
  items: FeedItem[];
  /** What was wrong but read anyway (broken entities, unreadable dates), each naming the line or the entry. */
  warnings: string[];
}

/** The feed is not something we can read: malformed XML, an HTML page, not RSS/Atom. */
export class FeedParseError extends PodlineError {}

/** The part of `sax` used here (the package ships no types). */
interface SaxParser {
  line: number;
  column: number;
  onopentag: (tag: { name: string; attributes: Record<string, string> }) => void;
  onclosetag: (name: string) => void;
  ontext: (text: string) => void;
  oncdata: (text: string) => void;
  onerror: (err: Error) => void;
  write(chunk: string): SaxParser;
  close(): SaxParser;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const sax = require('sax') as { parser(strict: boolean, opt: Record<string, unknown>): SaxParser; ENTITIES: Record<string, string> };

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

/** An element as read: its attributes, its own text and its children (items are mapped and dropped as they close). */
interface XmlNode {
  name: string;
  attrs: Record<string, string>;
  text: string;
  children: XmlNode[];
  line: number;
}

const localName = (name: string) => name.slice(name.indexOf(':') + 1);

function child(node: XmlNode, ...names: string[]): XmlNode | undefined {
  for (const name of names) {
    const found = node.children.find((c) => c.name === name);
    if (found) return found;
  }
  return undefined;
}

function textContent(node: XmlNode): string {
  return node.children.length ? node.text + node.children.map(textContent).join('') : node.text;
}

/** Trimmed, control characters removed, whitespace folded; undefined when empty. */
function oneLine(value: string | undefined): string | undefined {
  return value === undefined ? undefined : stripControl(value, true) || undefined;
}

function childText(node: XmlNode, ...names: string[]): string | undefined {
  const c = child(node, ...names);
  return c ? oneLine(textContent(c)) : undefined;
}

function positiveInt(value: string | undefined): number | undefined {
  if (!value || !/^\d+$/.test(value.trim())) return undefined;
  const n = Number(value.trim());
  return n > 0 && Number.isSafeInteger(n) ? n : undefined;
}

function decodeHtmlEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z][a-z0-9]*);/gi, (m, ent: string) => {
    if (ent[0] === '#') {
      const n = ent[1] === 'x' || ent[1] === 'X' ? parseInt(ent.slice(2), 16) : parseInt(ent.slice(1), 10);
      return n > 0 && n <= 0x10ffff ? String.fromCodePoint(n) : '';
    }
    return sax.ENTITIES[ent] ?? sax.ENTITIES[ent.toLowerCase()] ?? m;
  });
}

/** Show notes to plain text: block tags become line breaks, other tags go, HTML entities are decoded. */
function plainText(html: string): string | undefined {
  const text = decodeHtmlEntities(
    html
      .replace(/<\/?(?:h\d|br|p|ul|ol|li|blockquote|section|table|tr|div)\b[^>]*>/gi, '\n')
      .replace(/<[^>]*>/g, ''),
  );
  const clean = stripControl(text)
    .split('\n')
    .map((line) => line.replace(/\s+/g, ' ').trim())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
  return clean ? clean.slice(0, MAX_DESCRIPTION) : undefined;
}

const AUDIO_EXT = /\.(mp3|m4a|aac|ogg|oga|opus|wav|flac|mpga)$/i;
const VIDEO_EXT = /\.(mp4|m4v|mov|webm|mkv|avi)$/i;

type MediaKind = 'audio' | 'video' | 'unknown';

/** By declared type, else by the URL's extension; what was really downloaded is checked later. */
function mediaKind(url: string, type: string | undefined): MediaKind {
  const t = (type ?? '').toLowerCase();
  if (t.startsWith('audio/')) return 'audio';
  if (t.startsWith('video/')) return 'video';
  let pathname = url;
  try {
    pathname = new URL(url).pathname;
  } catch {
    /* relative: the raw string will do */
  }
  if (AUDIO_EXT.test(pathname)) return 'audio';
  if (VIDEO_EXT.test(pathname)) return 'video';
  return 'unknown';
}

interface Candidate {
  url: string;
  type?: string;
  length?: number;
}

function chooseEnclosure(enclosures: Candidate[], alternates: Candidate[]): FeedItem['enclosure'] {
  const kinds = (list: Candidate[]) => list.map((c) => ({ ...c, kind: mediaKind(c.url, c.type) }));
  const primary = kinds(enclosures);
  const alternate = kinds(alternates);
  const pick =
    primary.find((c) => c.kind === 'audio') ??
    alternate.find((c) => c.kind === 'audio') ??
    primary.find((c) => c.kind === 'unknown') ??
    primary.find((c) => c.kind === 'video') ??
    alternate.find((c) => c.kind === 'video');
  if (!pick) return undefined;
  return { url: pick.url, type: pick.type, length: pick.length, ...(pick.kind === 'video' ? { video: true } : {}) };
}

function candidate(url: string | undefined, type: string | undefined, length: string | undefined): Candidate | undefined {
  const u = oneLine(url);
  return u ? { url: u, type: oneLine(type), length: positiveInt(length) } : undefined;
}

function transcripts(item: XmlNode): TranscriptLink[] {
  return item.children
    .filter((c) => c.name === 'podcast:transcript' && c.attrs.url?.trim())
    .map((c) => ({ url: oneLine(c.attrs.url)!, type: oneLine(c.attrs.type) ?? '', language: oneLine(c.attrs.language), rel: oneLine(c.attrs.rel) }));
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}/;
const RFC822_DATE = /^(?:[a-z]{3},?\s*)?\d{1,2}\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{2,4}\b/i;

/**
 * An ISO 8601 or RFC 822 date as ISO 8601; undefined otherwise (Date.parse alone would guess at anything,
 * in the machine's time zone).
 */
function isoDate(value: string): string | undefined {
  const v = value.trim();
  if (!ISO_DATE.test(v) && !RFC822_DATE.test(v)) return undefined;
  const t = Date.parse(v);
  if (Number.isNaN(t)) return undefined;
  const iso = new Date(t).toISOString();
  return /^\d{4}-/.test(iso) ? iso : undefined;
}

function mapItem(node: XmlNode, atom: boolean, warnings: string[]): FeedItem {
  const title = childText(node, 'title', 'atom:title');
  const enclosures: Candidate[] = [];
  const alternates: Candidate[] = [];
  for (const c of node.children) {
    const name = atom ? localName(c.name) : c.name;
    if (name === 'enclosure') {
      const e = candidate(c.attrs.url, c.attrs.type, c.attrs.length);
      if (e) enclosures.push(e);
    } else if (name === 'link' && c.attrs.rel === 'enclosure') {
      const e = candidate(c.attrs.href, c.attrs.type, c.attrs.length);
      if (e) enclosures.push(e);
    } else if (c.name === 'podcast:alternateEnclosure') {
      for (const source of c.children.filter((s) => s.name === 'podcast:source')) {
        const e = candidate(source.attrs.uri, source.attrs.contentType ?? c.attrs.type, c.attrs.length);
        if (e) alternates.push(e);
      }
    }
  }
  let published: string | undefined;
  const dateNode = atom ? (child(node, 'published', 'atom:published') ?? child(node, 'updated', 'atom:updated')) : child(node, 'pubDate', 'dc:date');
  const rawDate = dateNode ? oneLine(textContent(dateNode)) : undefined;
  if (rawDate) {
    published = isoDate(rawDate);
    if (!published) {
      warnings.push(`line ${dateNode!.line}: ${title ? `"${title}"` : 'an entry'} has an unreadable date ${JSON.stringify(rawDate.slice(0, 60))}; recorded as undated`);
    }
  }
  const descNode = atom ? (child(node, 'summary', 'atom:summary') ?? child(node, 'content', 'atom:content')) : child(node, 'description');
  const description =
    (descNode ? plainText(textContent(descNode)) : undefined) ?? (child(node, 'itunes:summary') ? plainText(textContent(child(node, 'itunes:summary')!)) : undefined);
  return {
    guid: atom ? childText(node, 'id', 'atom:id') : childText(node, 'guid'),
    title,
    published,
    durationSeconds: parseDuration(childText(node, 'itunes:duration')),
    description,
    episodeNumber: positiveInt(childText(node, 'itunes:episode')),
    seasonNumber: positiveInt(childText(node, 'itunes:season')),
    enclosure: chooseEnclosure(enclosures, alternates),
    transcripts: transcripts(node),
  };
}

/** What a body starts with, for messages: "<!DOCTYPE html><html>…". */
function preview(body: string, n = 60): string {
  return JSON.stringify(stripControl(body.trimStart().slice(0, n), true));
}

class XmlSyntaxError extends Error {
  constructor(
    readonly reason: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`${reason} at line ${line}, column ${column}`);
  }
}

/** One strict pass over the document: items are mapped as they close, so memory holds one item at a time. */
function readXml(xml: string, warnings: string[]): ParsedFeed {
  const parser = sax.parser(true, { trim: false, normalize: false, position: true });
  const stack: XmlNode[] = [];
  let root: XmlNode | undefined;
  let atom = false;
  let channel: XmlNode | undefined;
  let inItem: XmlNode | undefined;
  const items: FeedItem[] = [];
  parser.onerror = (err) => {
    // sax counts lines from 0; editors from 1.
    const reason = err.message.split('\n')[0].replace(/\.$/, '');
    throw new XmlSyntaxError(reason, parser.line + 1, parser.column);
  };
  parser.onopentag = (tag) => {
    const node: XmlNode = { name: tag.name, attrs: tag.attributes, text: '', children: [], line: parser.line + 1 };
    if (!root) {
      root = node;
      const name = tag.name;
      atom = localName(name) === 'feed';
      if (name !== 'rss' && !atom && localName(name) !== 'RDF') throw new FeedParseError(`is XML but not an RSS or Atom feed (its root element is <${stripControl(name, true)}>)`);
    } else {
      const name = localName(tag.name);
      if (!inItem && (name === 'item' || (atom && name === 'entry'))) inItem = node;
      else stack[stack.length - 1].children.push(node);
      if (!channel && (tag.name === 'channel' || (atom && stack.length === 1))) channel = atom ? root : node;
    }
    stack.push(node);
  };
  parser.onclosetag = () => {
    const node = stack.pop()!;
    if (node === inItem) {
      items.push(mapItem(node, atom, warnings));
      inItem = undefined;
    }
  };
  parser.ontext = (t) => {
    if (stack.length) stack[stack.length - 1].text += t;
  };
  parser.oncdata = parser.ontext;
  parser.write(xml).close();
  if (!root) throw new FeedParseError(`is not XML (starts with ${preview(xml)})`);
  const top = channel ?? root;
  const newFeedUrl = childText(top, 'itunes:new-feed-url');
  return { title: childText(top, 'title', 'atom:title'), newFeedUrl, items, warnings };
}

const NAMED_ENTITY = /^[A-Za-z][A-Za-z0-9]*$/;

/**
 * What feed readers do with sloppy XML: an entity XML does not know (`&gtgt;`, `&nbspx;`), a broken numeric one,
 * or a bare ampersand becomes a literal `&`. CDATA sections and comments are left alone. Returns the repaired
 * text and how many repairs were made.
 */
export function repairEntities(xml: string): { xml: string; repairs: number } {
  let repairs = 0;
  const parts = xml.split(/(<!\[CDATA\[[\s\S]*?\]\]>|<!--[\s\S]*?-->)/);
  for (let i = 0; i < parts.length; i += 2) {
    parts[i] = parts[i].replace(/&(#x[0-9a-fA-F]+;|#[0-9]+;|[A-Za-z][A-Za-z0-9._-]*;)?/g, (m, ent: string | undefined) => {
      if (ent) {
        const name = ent.slice(0, -1);
        if (name[0] === '#') {
          const n = name[1] === 'x' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
          if (n === 0x9 || n === 0xa || n === 0xd || (n >= 0x20 && n <= 0xd7ff) || (n >= 0xe000 && n <= 0xfffd) || (n >= 0x10000 && n <= 0x10ffff)) return m;
        } else if (NAMED_ENTITY.test(name) && sax.ENTITIES[name] !== undefined) {
          return m;
        }
      }
      repairs++;
      return '&amp;' + (ent ?? '');
    });
  }
  return { xml: parts.join(''), repairs };
}

/**
 * Parse RSS 2.0 (with or without its `version`), RSS 1 and Atom, with the iTunes and Podcasting 2.0 fields Podline
 * uses, in one streaming pass. Sloppy XML (broken entities, bare ampersands) is read a second time after repair,
 * with a warning naming the first bad line; only XML that even that cannot read fails, naming line and column.
 */
export async function parseFeedXml(xml: string): Promise<ParsedFeed> {
  const head = xml.trimStart().slice(0, 512).toLowerCase();
  if (head.startsWith('<!doctype html') || head.startsWith('<html') || /^<\?xml[^>]*>\s*<html/.test(head)) {
    throw new FeedParseError(`got an HTML page, not a feed (starts with ${preview(xml)})`);
  }
  if (!head.startsWith('<')) throw new FeedParseError(`is not XML (starts with ${preview(xml)})`);
  try {
    return readXml(xml, []);
  } catch (err) {
    if (!(err instanceof XmlSyntaxError)) throw err;
    const repaired = repairEntities(xml);
    if (repaired.repairs > 0) {
      const warnings = [`line ${err.line}: ${err.reason}; read leniently after repairing ${repaired.repairs} broken entit${repaired.repairs === 1 ? 'y' : 'ies'} or bare ampersand${repaired.repairs === 1 ? '' : 's'} (tell the publisher: the feed is not well-formed XML)`];
      try {
        return readXml(repaired.xml, warnings);
      } catch (again) {
        if (!(again instanceof XmlSyntaxError)) throw again;
        throw new FeedParseError(`is not well-formed XML (${again.message}), even after repairing entities`);
      }
    }
    throw new FeedParseError(`is not well-formed XML (${err.message})`);
  }
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
