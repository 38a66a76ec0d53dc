import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { startFeedServer, type FeedServer } from '@podline/testing/http-feed-server';
import { fetchFeed } from './feed-fetch';
import { FetchError, openUrl, readBody, USER_AGENT } from './http';

const noRetry = { retries: 0, baseMs: 1, maxMs: 1 };
const fastRetry = { retries: 3, baseMs: 1, maxMs: 5 };

describe('openUrl and fetchFeed against a loopback server', () => {
  let server: FeedServer;
  beforeAll(async () => {
    server = await startFeedServer();
  });
  afterAll(() => server.close());
  beforeEach(() => server.resetRequests());

  it('sends a User-Agent naming Podline and follows redirects', async () => {
    server.route('/feed.xml', { body: '<rss/>' });
    server.route('/old', { redirect: '/moved', status: 301 });
    server.route('/moved', { redirect: '/feed.xml' });
    const res = await openUrl(server.url('/old'));
    expect((await readBody(res, 1e6)).toString()).toBe('<rss/>');
    expect(res.url).toBe(server.url('/feed.xml'));
    expect(server.requests.map((r) => r.headers['user-agent'])).toEqual([USER_AGENT, USER_AGENT, USER_AGENT]);
    expect(USER_AGENT).toMatch(/^Podline\//);
  });

  it('detects a redirect loop without looping', async () => {
    server.route('/a', { redirect: '/b' });
    server.route('/b', { redirect: '/a' });
    await expect(openUrl(server.url('/a'))).rejects.toThrow(/redirect loop/);
    expect(server.count()).toBe(2);
  });

  it('gives up after maxRedirects', async () => {
    for (let i = 0; i < 8; i++) server.route(`/r${i}`, { redirect: `/r${i + 1}` });
    await expect(openUrl(server.url('/r0'), { maxRedirects: 3 })).rejects.toThrow(/more than 3 redirects/);
    expect(server.count()).toBe(4);
  });

  it('times out a server that never answers', async () => {
    server.route('/hang', { hang: true });
    const err = await openUrl(server.url('/hang'), { timeoutMs: 200 }).catch((e) => e);
    expect(err).toBeInstanceOf(FetchError);
    expect(err.message).toMatch(/timed out/);
    expect(err.retryable).toBe(true);
  });

  it('times out a feed that never finishes', async () => {
    server.route('/slow.xml', { body: '<rss version="2.0"><channel>'.padEnd(5000, ' '), stallAfter: 100 });
    const err = await fetchFeed(server.url('/slow.xml'), undefined, { timeoutMs: 300, retry: noRetry }).catch((e) => e);
    expect(err).toBeInstanceOf(FetchError);
    expect(err.message).toMatch(/timed out/);
  });

  it('404 fails at once; 500 and 503 are retried until success', async () => {
    server.route('/gone.xml', { status: 404 });
    const gone = await fetchFeed(server.url('/gone.xml'), undefined, { timeoutMs: 2000, retry: fastRetry }).catch((e) => e);
    expect(gone.status).toBe(404);
    expect(gone.message).toMatch(/HTTP 404 Not Found/);
    expect(server.count('/gone.xml')).toBe(1);

    server.route('/flaky.xml', [{ status: 500 }, { status: 503, headers: { 'Retry-After': '0' } }, { body: '<rss/>', etag: '"v1"' }]);
    const ok = await fetchFeed(server.url('/flaky.xml'), undefined, { timeoutMs: 2000, retry: fastRetry });
    expect(ok.changed).toBe(true);
    expect(ok.requests).toBe(3);
    expect(server.count('/flaky.xml')).toBe(3);
  });

  it('gives up on 503 after the retries, with the status in the error', async () => {
    server.route('/down.xml', { status: 503 });
    const err = await fetchFeed(server.url('/down.xml'), undefined, { timeoutMs: 2000, retry: { ...fastRetry, retries: 2 } }).catch((e) => e);
    expect(err.message).toMatch(/HTTP 503/);
    expect(server.count('/down.xml')).toBe(3);
  });

  it('sends the validators and treats 304 as unchanged', async () => {
    server.route('/feed.xml', { body: '<rss/>', etag: '"abc"', lastModified: 'Mon, 02 Nov 2026 08:00:00 GMT' });
    const first = await fetchFeed(server.url('/feed.xml'), undefined, { timeoutMs: 2000, retry: noRetry });
    if (!first.changed) throw new Error('expected a body');
    expect(first.validators).toMatchObject({ etag: '"abc"', lastModified: 'Mon, 02 Nov 2026 08:00:00 GMT' });
    const second = await fetchFeed(server.url('/feed.xml'), first.validators, { timeoutMs: 2000, retry: noRetry });
    expect(second).toEqual({ changed: false, requests: 1 });
    expect(server.requests[1].headers['if-none-match']).toBe('"abc"');
    expect(server.requests[1].status).toBe(304);
    // Validators of another URL are not sent.
    await fetchFeed(server.url('/feed.xml'), { ...first.validators, url: 'http://127.0.0.1:1/other' }, { timeoutMs: 2000, retry: noRetry });
    expect(server.requests[2].headers['if-none-match']).toBeUndefined();
  });

  it('treats the same bytes from a server without validators as unchanged', async () => {
    server.route('/plain.xml', { body: '<rss>same</rss>' });
    const first = await fetchFeed(server.url('/plain.xml'), undefined, { timeoutMs: 2000, retry: noRetry });
    if (!first.changed) throw new Error('expected a body');
    const second = await fetchFeed(server.url('/plain.xml'), first.validators, { timeoutMs: 2000, retry: noRetry });
    expect(second.changed).toBe(false);
  });

  it('decodes a gzip-compressed feed, and fails a cut-off compressed one', async () => {
    const xml = '<rss version="2.0"><channel><title>zipped</title></channel></rss>'.repeat(50);
    server.route('/gz.xml', { body: xml, gzip: true });
    const got = await fetchFeed(server.url('/gz.xml'), undefined, { timeoutMs: 2000, retry: noRetry });
    if (!got.changed) throw new Error('expected a body');
    expect(got.body.toString()).toBe(xml);
    expect(server.requests[0].headers['accept-encoding']).toMatch(/gzip/);
    expect(server.requests[0].status).toBe(200);
    server.route('/gzcut.xml', { body: xml, gzip: true, cutAfter: 20 });
    await expect(fetchFeed(server.url('/gzcut.xml'), undefined, { timeoutMs: 2000, retry: noRetry })).rejects.toThrow(/gzcut\.xml was cut off after \d+ bytes \(aborted\)/);
  });

  it('reads file: URLs and answers their conditional requests', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'feeds-file-'));
    const file = path.join(dir, 'feed.xml');
    writeFileSync(file, '<rss>local</rss>');
    const url = pathToFileURL(file).href;
    const first = await fetchFeed(url, undefined, { timeoutMs: 2000, retry: noRetry });
    if (!first.changed) throw new Error('expected a body');
    expect(first.body.toString()).toBe('<rss>local</rss>');
    expect(first.validators.etag).toBeTruthy();
    expect((await fetchFeed(url, first.validators, { timeoutMs: 2000, retry: noRetry })).changed).toBe(false);
    await expect(openUrl(pathToFileURL(path.join(dir, 'missing.xml')).href)).rejects.toThrow(/does not exist/);
  });

  it('refuses a redirect from the network to a local file', async () => {
    server.route('/evil', { redirect: 'file:///etc/passwd' });
    await expect(openUrl(server.url('/evil'))).rejects.toThrow(/refused/);
  });
});
