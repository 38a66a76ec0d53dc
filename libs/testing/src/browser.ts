import chromium from '@sparticuz/chromium';
import puppeteer, { type Browser } from 'puppeteer-core';

/**
 * Headless Chromium from npm (@sparticuz/chromium carries the binary: nothing is downloaded), for tests and
 * benchmarks of the search page. Its Lambda flags are trimmed: one process per renderer (several pages and
 * browser contexts at once, workers doing synchronous reads), and web security left on, so CORS and the
 * page's Content-Security-Policy are what a listener's browser enforces.
 */
const DROPPED = new Set(['--single-process', '--disable-web-security', '--allow-running-insecure-content', '--disable-site-isolation-trials']);

export async function launchChromium(): Promise<Browser> {
  const lib = ((chromium as unknown as { default?: typeof chromium }).default ?? chromium) as typeof chromium;
  const args = lib.args.filter((a) => !DROPPED.has(a));
  return puppeteer.launch({
    executablePath: await lib.executablePath(),
    args: [...args, '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--mute-audio'],
    headless: true,
  });
}
