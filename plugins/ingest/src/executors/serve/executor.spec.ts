/**
 * The listeners' search page in a real browser: the example site goes through rss → transcribe → upload →
 * index, `serve` serves its bucket folder, and headless Chromium (from npm, no download) uses the page.
 * Set PODLINE_SCREENSHOT=<file.png> to also save the README's screenshot.
 */
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { launchChromium, startRecordingProxy, type RecordingProxy } from '@podline/testing/browser';
import { loadSiteConfig, localBucketDir } from '@podline/config';
import indexExecutor from '../index/executor';
import rssExecutor from '../rss/executor';
import transcribeExecutor from '../transcribe/executor';
import uploadExecutor from '../upload/executor';
import { TestWorkspace } from '../index/test-workspace';
import serveExecutor, { stopServing } from './executor';

// A shared CI machine can be slow: generous waits, no timing assertions.
jest.setTimeout(600_000);

const REPO = path.resolve(__dirname, '..', '..', '..', '..', '..');
const EXAMPLE = path.join(REPO, 'sites', 'example');

/** The foghorn is said from 0:08 in this copy of the example (its first entry is eight seconds of welcome). */
const EPISODE_1_SRT = `1
00:00:00,000 --> 00:00:04,000
Welcome to the Example Show, the little podcast that ships with Podline.

2
00:00:04,000 --> 00:00:08,000
It runs end to end without the network, which is the point.

3
00:00:08,000 --> 00:00:12,000
Today we talk about lighthouse keepers and the history of the foghorn.
`;

describe('serve + the search page, in headless Chromium', () => {
  let ws: TestWorkspace;
  let browser: Browser;
  let base: string;
  let stop: () => Promise<void>;
  let serving: Promise<{ success: boolean }>;
  let output = '';
  let proxy: RecordingProxy;

  beforeAll(async () => {
    if (!existsSync(path.join(EXAMPLE, 'media', 'episode-1.mp3'))) {
      throw new Error('the example audio is missing: run `node tools/scripts/make-example-audio.js` (npm ci does)');
    }
    ws = new TestWorkspace();
    const site = path.join(ws.root, 'sites', 'example');
    cpSync(EXAMPLE, site, { recursive: true });
    // Longer audio (four copies of the MP3's frames) and a transcript where the foghorn comes at 0:08.
    const mp3 = readFileSync(path.join(EXAMPLE, 'media', 'episode-1.mp3'));
    writeFileSync(path.join(site, 'media', 'episode-1.mp3'), Buffer.concat([mp3, mp3, mp3, mp3]));
    writeFileSync(path.join(site, 'transcripts', 'episode-1.srt'), EPISODE_1_SRT);
    const ctx = ws.context('example');
    for (const run of [rssExecutor, transcribeExecutor, uploadExecutor, indexExecutor]) {
      expect((await run({}, ctx)).success).toBe(true);
    }

    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((s) => ((output += String(s)), true));
    serving = serveExecutor({ port: 0 }, ctx);
    for (let i = 0; i < 100 && !/search page: (http\S+)/.test(output); i++) await new Promise((r) => setTimeout(r, 50));
    spy.mockRestore();
    base = /search page: (http\S+)/.exec(output)![1];
    stop = async () => {
      stopServing();
      await serving;
    };

    // Every request of the browser (the page's, its range reads of the index, the audio's) goes through a recording proxy.
    proxy = await startRecordingProxy(new URL(base).origin);
    browser = await launchChromium(proxy.args);
  });

  afterAll(async () => {
    const closing = browser?.close();
    await Promise.race([closing, new Promise((r) => setTimeout(r, 20_000))]);
    if (browser?.connected) browser.process()?.kill('SIGKILL');
    await proxy?.close();
    await stop?.();
    ws?.dispose();
  });

  async function open(query: string): Promise<Page> {
    const page = await browser.newPage();
    page.setDefaultTimeout(90_000);
    page.on('pageerror', (e) => process.stderr.write(`page error: ${(e as Error).message}\n`));
    await page.setViewport({ width: 420, height: 860, deviceScaleFactor: 1 });
    await page.goto(`${base}${query}`);
    await page.waitForSelector('body[data-ready="true"]');
    return page;
  }

  const status = (page: Page) => page.$eval('#status', (e) => (e as HTMLElement).innerText);
  const hits = (page: Page) =>
    page.$$eval('a.hit', (as) => as.map((a) => ({ text: (a as HTMLElement).innerText, href: a.getAttribute('href')!, seconds: (a as HTMLElement).dataset.seconds })));

  it('prints the URL of the page in the bucket folder', () => {
    const site = loadSiteConfig(path.join(ws.root, 'sites', 'example', 'site.config.json'));
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/web\/$/);
    expect(existsSync(path.join(localBucketDir(site, ws.root), 'web', 'site.json'))).toBe(true);
  });

  it('finds "foghorn": episode, time, snippet; a click plays the bucket copy from the cue', async () => {
    const page = await open('');
    await page.type('#q', 'foghorn');
    await page.keyboard.press('Enter');
    await page.waitForSelector('a.hit');
    const [hit, ...rest] = await hits(page);
    expect(rest).toHaveLength(0);
    expect(hit.text).toContain('The Example Show');
    expect(hit.text).toContain('Lighthouse keepers and the foghorn');
    expect(hit.text).toContain('2026-11-02');
    expect(hit.text).toContain('0:08');
    expect(hit.seconds).toBe('8');
    expect(await page.$eval('a.hit mark', (m) => m.textContent)).toBe('foghorn');
    expect(page.url()).toBe(`${base}?q=foghorn`);

    await page.click('a.hit');
    await page.waitForFunction(() => (document.getElementById('audio') as HTMLAudioElement).readyState >= 1);
    const audio = await page.$eval('#audio', (a) => ({ src: (a as HTMLAudioElement).src, t: (a as HTMLAudioElement).currentTime }));
    const fileKey = '2026-11-02_lighthouse-keepers-and-the-foghorn_';
    expect(audio.src.startsWith(`${new URL(base).origin}/audio/example-show/${fileKey}`)).toBe(true);
    expect(audio.t).toBeGreaterThanOrEqual(8);
    expect(audio.t).toBeLessThan(11);
    // The bucket's copy is the file that was transcribed.
    const served = Buffer.from(await page.evaluate(async (u) => Array.from(new Uint8Array(await (await fetch(u)).arrayBuffer())), audio.src));
    const bucketFile = path.join(ws.root, 'data', '.bucket', 'example', ...new URL(audio.src).pathname.split('/').filter(Boolean));
    expect(served.equals(readFileSync(bucketFile))).toBe(true);
    expect(page.url()).toContain('e=example-show-episode-1');
    expect(page.url()).toContain('t=8');

    if (process.env.PODLINE_SCREENSHOT) {
      await page.evaluate(() => (document.getElementById('audio') as HTMLAudioElement).pause());
      await page.screenshot({ path: process.env.PODLINE_SCREENSHOT as `${string}.png` });
    }
    await page.close();
  });

  it('?q= runs a search; the back button returns to the previous one', async () => {
    const page = await open('?q=honey+bees');
    await page.waitForSelector('a.hit');
    expect((await hits(page))[0].text).toContain('How honey bees find their way home');
    await page.$eval('#q', (i) => ((i as HTMLInputElement).value = ''));
    await page.type('#q', 'lighthouse');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelector('a.hit')?.textContent?.includes('Lighthouse keepers'));
    await page.goBack();
    await page.waitForFunction(() => document.querySelector('a.hit')?.textContent?.includes('honey bees'));
    expect(await page.$eval('#q', (i) => (i as HTMLInputElement).value)).toBe('honey bees');
    await page.close();
  });

  it('?e=&t= opens that moment of the episode', async () => {
    const page = await open('?e=example-show-episode-1&t=9');
    await page.waitForFunction(() => !(document.getElementById('player') as HTMLElement).hidden);
    expect(await page.$eval('#now-title', (e) => e.textContent)).toBe('Lighthouse keepers and the foghorn');
    expect(await page.$eval('#now-text', (e) => e.textContent)).toContain('history of the foghorn');
    await page.waitForFunction(() => (document.getElementById('audio') as HTMLAudioElement).readyState >= 1);
    const t = await page.$eval('#audio', (a) => (a as HTMLAudioElement).currentTime);
    expect(t).toBeGreaterThanOrEqual(9);
    expect(t).toBeLessThan(10);
    await page.close();
    const unknown = await open('?e=no-such-episode&t=3');
    await unknown.waitForFunction(() => document.getElementById('status')?.textContent?.includes('not in this search index'));
    await unknown.close();
  });

  it('is usable from the keyboard alone', async () => {
    const page = await open('');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('q');
    await page.keyboard.type('beekeeper');
    await page.keyboard.press('Enter');
    await page.waitForSelector('a.hit');
    await page.keyboard.press('Tab'); // the button
    await page.keyboard.press('Tab'); // the first result
    expect(await page.evaluate(() => document.activeElement?.className)).toBe('hit');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => (document.getElementById('audio') as HTMLAudioElement).src.includes('/audio/example-show/'));
    await page.close();
  });

  it('says so for no matches, punctuation only, and an empty query', async () => {
    const page = await open('?q=zeppelin');
    await page.waitForFunction(() => document.getElementById('status')?.textContent?.startsWith('No matches'));
    expect(await status(page)).toContain('No matches for “zeppelin”');
    expect(await hits(page)).toHaveLength(0);
    await page.$eval('#q', (i) => ((i as HTMLInputElement).value = '?!* ""'));
    await page.focus('#q');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.getElementById('status')?.textContent?.includes('no words'));
    expect(await page.$eval('#status', (e) => e.className)).toBe('error');
    expect(await hits(page)).toHaveLength(0);
    await page.$eval('#q', (i) => ((i as HTMLInputElement).value = '   '));
    await page.focus('#q');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.getElementById('status')?.textContent?.includes('Type a word'));
    await page.close();
  });

  it('the first screen loads the page alone, compressed; the index comes when the box is used (no wasm, no worker)', async () => {
    const context = await browser.createBrowserContext(); // nothing cached
    const page = await context.newPage();
    const encodings: Record<string, string | undefined> = {};
    page.on('response', (r) => void (encodings[new URL(r.url()).pathname] = r.headers()['content-encoding']));
    const from = proxy.seen.length;
    await page.goto(base);
    await page.waitForSelector('body[data-ready="true"]');
    await new Promise((r) => setTimeout(r, 300));
    const firstScreen = proxy.seen.slice(from).map((u) => new URL(u).pathname);
    expect(firstScreen.some((p) => /\/web\/assets\/app-[0-9a-f]{16}\.js\.br$/.test(p))).toBe(true);
    expect(firstScreen.filter((p) => /sqlite|wasm/.test(p))).toEqual([]);
    expect(Object.entries(encodings).filter(([p]) => p.endsWith('.js.br')).map(([, e]) => e)).toEqual(['br']);
    expect(await page.$('body[data-open="true"]')).toBeNull();
    await page.focus('#q');
    await page.waitForSelector('body[data-open="true"]');
    const opened = proxy.seen.slice(from).map((u) => new URL(u).pathname);
    expect(opened.some((p) => /\/web\/index-[0-9a-f]{16}\.sqlite$/.test(p))).toBe(true);
    expect(opened.filter((p) => /wasm|worker/.test(p))).toEqual([]);
    await context.close();
  });

  it('a search starts no worker and leaves the console clean; the status counts every match', async () => {
    const context = await browser.createBrowserContext();
    const page = await context.newPage();
    const logged: string[] = [];
    const workers: string[] = [];
    page.on('console', (m) => void logged.push(m.text()));
    page.on('workercreated', (w) => void workers.push(w.url()));
    await page.goto(`${base}?q=the`);
    await page.waitForSelector('a.hit');
    expect(await status(page)).toMatch(/^\d+ match(es)? for “the”/);
    expect(logged).toEqual([]);
    expect(workers).toEqual([]);
    await context.close();
  });

  it('loaded nothing from outside the site’s origin', async () => {
    // The proxy saw the page's range reads of the index and the audio: it sees everything.
    expect(proxy.seen.some((u) => /\/web\/index-[0-9a-f]{16}\.sqlite$/.test(u))).toBe(true);
    expect(proxy.seen.some((u) => u.includes('/audio/example-show/'))).toBe(true);
    expect(proxy.outside).toEqual([]);
    // And the proxy does catch a request to another origin.
    const page = await browser.newPage();
    await page.goto('http://203.0.113.7/elsewhere').catch(() => undefined);
    expect(proxy.outside).toEqual(['http://203.0.113.7/elsewhere']);
    await page.close();
  });
});
