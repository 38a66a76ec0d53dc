import { createHash } from 'node:crypto';
import type { EpisodeRecord } from '@podline/config';
import type { FeedItem } from './parse';

export interface EpisodeIdentity {
  id: string;
  idSource: EpisodeRecord['idSource'];
}

const MEDIA_FILE = /\.(mp3|m4a|aac|ogg|oga|opus|wav|flac|mp4|m4v|mov|webm)\b/i;
const SCRIPT_PATH = /\.(php|aspx?|cgi|jsp|pl)$/i;

function decodeQuery(query: string): string {
  try {
    return decodeURIComponent(query);
  } catch {
    return query;
  }
}

/**
 * The enclosure URL without query string or fragment (tracking parameters change; the file does not), except:
 * - a prefix redirect that carries the real file URL in its query (`https://tracker/redirect.mp3?https://host/ep-12.mp3`,
 *   `…?url=https%3A%2F%2Fhost%2Fep-12.mp3`) is known by that inner URL (itself without query);
 * - when the query is what names the file (`/download.php?id=12`, `/get?file=ep-12.mp3`), the whole URL is kept.
 */
export function enclosureIdentity(url: string): string {
  const noFragment = url.replace(/#.*$/, '');
  const q = noFragment.indexOf('?');
  if (q < 0) return noFragment;
  const pathPart = noFragment.slice(0, q);
  const query = decodeQuery(noFragment.slice(q + 1));
  const inner = /^(?:[\w.-]+=)?(https?:\/\/[^&\s]+)/i.exec(query) ?? /(?:^|&)[\w.-]+=(https?:\/\/[^&\s]+)/i.exec(query);
  if (inner) return enclosureIdentity(inner[1]);
  const fileInPath = MEDIA_FILE.test(pathPart.slice(pathPart.lastIndexOf('/')));
  if (!fileInPath && (SCRIPT_PATH.test(pathPart) || MEDIA_FILE.test(query))) return noFragment;
  return pathPart;
}

/** The identity rules before tracking redirects were unwrapped: existing records made with them keep their id. */
export function legacyEnclosureIdentity(url: string): string {
  return url.replace(/[?#].*$/, '');
}

/**
 * An episode's stable id: its guid (an Atom entry's <id>); else its enclosure URL (see enclosureIdentity); else
 * title and date. Undefined when the item has none of them (nothing to know it by).
 */
export function episodeIdentity(item: FeedItem, enclosureId: (url: string) => string = enclosureIdentity): EpisodeIdentity | undefined {
  if (item.guid) return { id: item.guid, idSource: 'guid' };
  if (item.enclosure?.url) return { id: enclosureId(item.enclosure.url), idSource: 'enclosure' };
  if (item.title) return { id: `${item.title}|${item.published ?? ''}`, idSource: 'title-date' };
  return undefined;
}

const MAX_SLUG = 60;

/** Lower-case ASCII words joined by dashes; accents folded, everything else (/, .., emoji) dropped; at most MAX_SLUG. */
export function slugify(title: string | undefined): string {
  const words = (title ?? '')
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (words.length <= MAX_SLUG) return words || 'episode';
  const cut = words.slice(0, MAX_SLUG + 1);
  const atDash = cut.lastIndexOf('-');
  return (atDash > MAX_SLUG / 2 ? cut.slice(0, atDash) : cut.slice(0, MAX_SLUG)).replace(/-+$/, '');
}

function shortHash(id: string, length = 10): string {
  return createHash('sha256').update(id).digest('hex').slice(0, length);
}

/**
 * `YYYY-MM-DD_<slug>_<short hash of the id>`: deterministic, filesystem-safe, sortable by date.
 * Undated episodes get 0000-00-00. `hashLength` grows only to resolve a collision.
 */
export function makeFileKey(id: string, title: string | undefined, published: string | undefined, hashLength = 10): string {
  const date = published && /^\d{4}-\d{2}-\d{2}/.test(published) ? published.slice(0, 10) : '0000-00-00';
  return `${date}_${slugify(title)}_${shortHash(id, hashLength)}`;
}
