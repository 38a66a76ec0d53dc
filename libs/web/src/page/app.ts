/**
 * The listeners' search page. No framework: one form, one list, one audio element; the URL holds the state
 * (`?q=` a search, `?e=&t=` a moment), so links can be shared and the back button works.
 */
import type { SiteJson } from './site-json';
import { clock, findMoment, MARK_CLOSE, MARK_OPEN, QueryError, searchWebIndex, WebIndex, type PageEpisode, type PageResults } from './search';
import { httpReadAt } from './sqlite-reader';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const form = $<HTMLFormElement>('search');
const input = $<HTMLInputElement>('q');
const status = $<HTMLParagraphElement>('status');
const list = $<HTMLOListElement>('results');
const player = $<HTMLElement>('player');
const nowTitle = $<HTMLHeadingElement>('now-title');
const nowMeta = $<HTMLParagraphElement>('now-meta');
const nowText = $<HTMLParagraphElement>('now-text');
const audio = $<HTMLAudioElement>('audio');

let site: SiteJson;
let pendingSeek: number | undefined;
let generation = 0;

function say(text: string, kind: 'info' | 'error' = 'info'): void {
  status.textContent = text;
  status.className = kind;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function marked(snippet: string): string {
  return escapeHtml(snippet).split(MARK_OPEN).join('<mark>').split(MARK_CLOSE).join('</mark>');
}

const podcastTitle = (id: string) => site.podcasts.find((p) => p.id === id)?.title ?? id;
const day = (iso: string | null) => (iso ? iso.slice(0, 10) : '');

function audioUrl(ep: PageEpisode): string {
  return new URL(`${site.audioBase}audio/${encodeURIComponent(ep.podcast)}/${encodeURIComponent(ep.fileKey)}.mp3`, location.href).href;
}

let opened: Promise<WebIndex> | undefined;

/**
 * The index, opened once: the page reads its SQLite b-trees itself over HTTP range requests, the pages of
 * one level of a b-tree all at once (no wasm, no worker).
 */
function db(): Promise<WebIndex> {
  opened ??= WebIndex.open(httpReadAt(new URL(site.index.file, location.href).href), site.index.bytes, { firstRead: site.index.head ?? site.index.pageSize });
  opened.catch(() => (opened = undefined));
  return opened;
}

function momentHref(q: string, ep: PageEpisode, seconds: number): string {
  const p = new URLSearchParams();
  if (q) p.set('q', q);
  p.set('e', ep.id);
  p.set('t', String(seconds));
  return `?${p}`;
}

function render(q: string, { hits, order, matches }: PageResults): void {
  list.replaceChildren(
    ...hits.map((h) => {
      const seconds = Math.floor(h.startMs / 1000);
      const li = document.createElement('li');
      const a = document.createElement('a');
      a.className = 'hit';
      a.href = momentHref(q, h.episode, seconds);
      a.dataset.episode = h.episode.id;
      a.dataset.seconds = String(seconds);
      a.innerHTML =
        `<span class="where"><span class="podcast">${escapeHtml(podcastTitle(h.episode.podcast))}</span> · ` +
        `<span class="episode">${escapeHtml(h.episode.title)}</span> <time datetime="${escapeHtml(h.episode.published ?? '')}">${escapeHtml(day(h.episode.published))}</time></span>` +
        `<span class="at">${clock(h.startMs)}</span><span class="snippet">${marked(h.snippet)}</span>`;
      a.addEventListener('click', (ev) => {
        if (ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.button !== 0) return; // new tab etc.: let the link work
        ev.preventDefault();
        history.pushState(null, '', a.href);
        open(h.episode, seconds, h.snippet.split(MARK_OPEN).join('').split(MARK_CLOSE).join(''), true);
      });
      li.append(a);
      return li;
    }),
  );
  if (!hits.length) say(`No matches for “${q}”. Try fewer or other words.`);
  else {
    const count = `${matches.toLocaleString('en')} ${matches === 1 ? 'match' : 'matches'} for “${q}”`;
    if (matches <= hits.length) say(`${count}.`);
    else if (order === 'best') say(`${count}: the best ${hits.length}.`);
    else say(`${count}: the newest ${hits.length} (too many to rank; add words to narrow).`);
  }
}

function open(ep: PageEpisode, seconds: number, text: string | undefined, play: boolean): void {
  player.hidden = false;
  nowTitle.textContent = ep.title;
  nowMeta.textContent = `${podcastTitle(ep.podcast)} · ${day(ep.published)} · from ${clock(seconds * 1000)}`;
  nowText.textContent = text ?? '';
  const src = audioUrl(ep);
  if (audio.src !== src) audio.src = src;
  pendingSeek = seconds;
  audio.currentTime = seconds;
  if (play) audio.play().catch(() => say('Press play to listen.'));
}

audio.addEventListener('loadedmetadata', () => {
  if (pendingSeek !== undefined && Math.abs(audio.currentTime - pendingSeek) > 0.5) audio.currentTime = pendingSeek;
  pendingSeek = undefined;
});
audio.addEventListener('error', () => say('This episode’s audio could not be loaded.', 'error'));

async function search(q: string): Promise<void> {
  const mine = ++generation;
  const started = performance.now();
  try {
    await runSearch(q, mine);
  } finally {
    // For tests and the benchmark: the number of the last search that finished, and how long it took from
    // the request to the results on screen (read, ranked, rendered).
    if (mine === generation) {
      document.body.dataset.searchMs = (performance.now() - started).toFixed(1);
      document.body.dataset.searched = String(mine);
    }
  }
}

async function runSearch(q: string, mine: number): Promise<void> {
  input.value = q;
  if (!q.trim()) {
    list.replaceChildren();
    say('Type a word or a few to search every episode. "A phrase" in quotes, word* for a prefix, a OR b.');
    return;
  }
  say(`Searching for “${q}”…`);
  try {
    const results = await searchWebIndex(await db(), q, { rankCap: site.index.rankCap, limit: site.index.limit });
    if (mine === generation) render(q, results);
  } catch (err) {
    if (mine !== generation) return;
    list.replaceChildren();
    if (err instanceof QueryError) say(`“${q}” has no words to search for: type letters or numbers.`, 'error');
    else say(`Search failed: ${(err as Error).message}. Reload the page to try again.`, 'error');
  }
}

/** Show what the URL says. */
async function route(): Promise<void> {
  const p = new URLSearchParams(location.search);
  const q = p.get('q') ?? '';
  const e = p.get('e');
  const t = Number(p.get('t') ?? '0');
  await search(q);
  if (!e) {
    player.hidden = true;
    audio.pause();
    return;
  }
  const seconds = Number.isFinite(t) && t >= 0 ? Math.floor(t) : 0;
  try {
    const moment = await findMoment(await db(), e, seconds);
    if (!moment) {
      player.hidden = true;
      say('That episode is not in this search index (it may have been removed). Search for it instead.', 'error');
      return;
    }
    open(moment.episode, seconds, moment.text, false);
    if (!q) say(`${moment.episode.title} from ${clock(seconds * 1000)}: press play to listen.`);
  } catch (err) {
    say(`Could not open that moment: ${(err as Error).message}.`, 'error');
  }
}

form.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const q = input.value.trim();
  const url = q ? `?${new URLSearchParams({ q })}` : location.pathname;
  history.pushState(null, '', url);
  void route();
});
window.addEventListener('popstate', () => void route());

async function start(): Promise<void> {
  try {
    const res = await fetch('site.json', { cache: 'no-cache' });
    if (!res.ok) throw new Error(`site.json: HTTP ${res.status}`);
    site = (await res.json()) as SiteJson;
  } catch (err) {
    say(`This search page is not set up yet (${(err as Error).message}). Run the site's index target.`, 'error');
    return;
  }
  document.title = `${site.site.title} — search`;
  $<HTMLHeadingElement>('title').textContent = site.site.title;
  form.hidden = false;
  // The first screen needs only this script and site.json. The index's first pages load when the listener
  // starts to search (focus, a key, a tap on the box) or a link asks for a search or a moment.
  for (const type of ['focus', 'pointerdown', 'keydown', 'input']) input.addEventListener(type, () => void warmUp(), { once: true, passive: true });
  const p = new URLSearchParams(location.search);
  if (p.get('q') || p.get('e')) void warmUp();
  await route();
  document.body.dataset.ready = 'true';
}

let warming: Promise<void> | undefined;

/** Open the index (once); `data-open` says it is open. */
function warmUp(): Promise<void> {
  warming ??= db()
    .then(() => void (document.body.dataset.open = 'true'))
    .catch((err: Error) => {
      warming = undefined;
      say(`The search index could not be opened: ${err.message}. Reload the page to try again.`, 'error');
    });
  return warming;
}

void start();
