import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { TEMP_SUFFIX } from '@podline/config';
import { fakeMp3, startFeedServer, type FeedServer } from '@podline/testing/http-feed-server';
import { looksLikeAudio } from './audio';
import { downloadAudio, NotAudioError, removeStaleTemps } from './download';
import { spawnTs } from '@podline/testing/run-ts';

const retry = { retries: 2, baseMs: 1, maxMs: 5 };
// The server is on 127.0.0.1: allowed here as a site config's "network" setting would.
const loopback = { allowPrivateAddresses: true };
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('looksLikeAudio', () => {
  const h = (s: string, pad = 12) => Buffer.from(s.padEnd(pad, '\0'), 'latin1');
  it.each([
    ['ID3', h('ID3\x04')],
    ['MPEG frame sync', Buffer.from([0xff, 0xfb, 0x90, 0x64, 0, 0, 0, 0, 0, 0, 0, 0])],
    ['m4a ftyp', h('\0\0\0\x20ftypM4A ')],
    ['Ogg', h('OggS')],
    ['WAVE', h('RIFF\x24\0\0\0WAVE')],
    ['FLAC', h('fLaC')],
  ])('accepts %s', (_n, head) => expect(looksLikeAudio(head)).toBe(true));
  it.each([
    ['HTML', h('<!DOCTYPE html>')],
    ['text', h('Not Found')],
    ['JSON', h('{"error":1}')],
    ['RIFF AVI', h('RIFF\x24\0\0\0AVI ')],
  ])('rejects %s', (_n, head) => expect(looksLikeAudio(head)).toBe(false));
});

describe('downloadAudio against a loopback server', () => {
  let server: FeedServer;
  let dir: string;
  beforeAll(async () => {
    server = await startFeedServer();
  });
  afterAll(() => server.close());
  beforeEach(() => {
    server.resetRequests();
    dir = mkdtempSync(path.join(tmpdir(), 'feeds-dl-'));
  });
  const leftovers = () => readdirSync(dir).filter((n) => n.endsWith(TEMP_SUFFIX));

  it('streams, hashes and renames into place', async () => {
    const body = fakeMp3(200_000, 3);
    server.route('/a.mp3', { body, contentType: 'audio/mpeg' });
    const dest = path.join(dir, 'audio', 'a.mp3');
    const seen: number[] = [];
    const got = await downloadAudio(server.url('/a.mp3'), dest, { timeoutMs: 2000, policy: loopback, retry, onProgress: (n) => seen.push(n) });
    expect(got).toEqual({ size: body.length, sha256: sha(body) });
    expect(readFileSync(dest).equals(body)).toBe(true);
    expect(seen[seen.length - 1]).toBe(body.length);
    expect(leftovers()).toEqual([]);
  });

  it('a download cut off mid-way leaves no file, temp or final, and is retried', async () => {
    const body = fakeMp3(100_000);
    server.route('/cut.mp3', { body, cutAfter: 40_000 });
    const dest = path.join(dir, 'cut.mp3');
    const err = await downloadAudio(server.url('/cut.mp3'), dest, { timeoutMs: 2000, policy: loopback, retry }).catch((e) => e);
    expect(err.message).toMatch(/cut\.mp3 was cut off after \d+ of 100000 bytes/);
    expect(server.count('/cut.mp3')).toBe(3);
    expect(existsSync(dest)).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('recovers when the cut happens once, then the server sends the whole file', async () => {
    const body = fakeMp3(50_000);
    server.route('/once.mp3', [{ body, cutAfter: 10_000 }, { body }]);
    const dest = path.join(dir, 'once.mp3');
    const got = await downloadAudio(server.url('/once.mp3'), dest, { timeoutMs: 2000, policy: loopback, retry });
    expect(got.sha256).toBe(sha(body));
    expect(server.count('/once.mp3')).toBe(2);
  });

  it('a chunked body shorter than the feed says is treated as cut off', async () => {
    server.route('/short.mp3', { body: fakeMp3(1000), chunked: true });
    const dest = path.join(dir, 'short.mp3');
    await expect(downloadAudio(server.url('/short.mp3'), dest, { timeoutMs: 2000, policy: loopback, retry: { ...retry, retries: 0 }, feedLength: 5000 })).rejects.toThrow(/ended after 1000 bytes; the feed says 5000/);
    expect(existsSync(dest)).toBe(false);
  });

  it('retries 503 and 429, not 404', async () => {
    const body = fakeMp3(3000);
    server.route('/busy.mp3', [{ status: 503 }, { status: 429 }, { body }]);
    await downloadAudio(server.url('/busy.mp3'), path.join(dir, 'busy.mp3'), { timeoutMs: 2000, policy: loopback, retry });
    expect(server.count('/busy.mp3')).toBe(3);
    server.route('/missing.mp3', { status: 404 });
    await expect(downloadAudio(server.url('/missing.mp3'), path.join(dir, 'missing.mp3'), { timeoutMs: 2000, policy: loopback, retry })).rejects.toThrow(/HTTP 404/);
    expect(server.count('/missing.mp3')).toBe(1);
  });

  it('rejects an HTML page served as 200, without retrying', async () => {
    server.route('/page.mp3', { body: '<!DOCTYPE html><html><body>Please log in</body></html>', contentType: 'application/octet-stream' });
    const err = await downloadAudio(server.url('/page.mp3'), path.join(dir, 'page.mp3'), { timeoutMs: 2000, policy: loopback, retry }).catch((e) => e);
    expect(err).toBeInstanceOf(NotAudioError);
    expect(err.message).toMatch(/is not audio \(got an HTML page\)/);
    expect(server.count('/page.mp3')).toBe(1);
    server.route('/typed.mp3', { body: fakeMp3(100), contentType: 'text/html; charset=utf-8' });
    await expect(downloadAudio(server.url('/typed.mp3'), path.join(dir, 'typed.mp3'), { timeoutMs: 2000, policy: loopback, retry })).rejects.toThrow(/served text\/html/);
    server.route('/empty.mp3', { body: '' });
    await expect(downloadAudio(server.url('/empty.mp3'), path.join(dir, 'empty.mp3'), { timeoutMs: 2000, policy: loopback, retry })).rejects.toThrow(/is empty/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a stalled download times out and leaves nothing', async () => {
    server.route('/stall.mp3', { body: fakeMp3(100_000), stallAfter: 20_000 });
    const dest = path.join(dir, 'stall.mp3');
    await expect(downloadAudio(server.url('/stall.mp3'), dest, { timeoutMs: 200, policy: loopback, retry: { ...retry, retries: 0 } })).rejects.toThrow(/timed out/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a process killed mid-download leaves only a temp file; the next run cleans it and completes', async () => {
    const body = fakeMp3(300_000, 11);
    server.route('/killed.mp3', { body, stallAfter: 100_000 });
    const dest = path.join(dir, 'killed.mp3');
    const child = spawnTs(path.join(__dirname, 'spec-download-child.ts'), [server.url('/killed.mp3'), dest], {
      stdio: 'ignore',
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    let code: number | null | undefined;
    const exited = new Promise((resolve) => child.on('exit', (c) => resolve((code = c))));
    // Wait until the child has written what the server sent, then kill it without warning.
    for (;;) {
      if (code !== undefined) throw new Error(`the download child ended by itself (exit ${code}) before it could be killed`);
      const temp = leftovers()[0];
      if (temp && readFileSync(path.join(dir, temp)).length >= 100_000) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill('SIGKILL');
    await exited;
    expect(existsSync(dest)).toBe(false);
    expect(leftovers()).toHaveLength(1);

    server.route('/killed.mp3', { body });
    const got = await downloadAudio(server.url('/killed.mp3'), dest, { timeoutMs: 2000, policy: loopback, retry });
    expect(got.sha256).toBe(sha(body));
    expect(readdirSync(dir)).toEqual(['killed.mp3']);
  });

  it('removes temp files of killed runs, not of live processes', async () => {
    const dest = path.join(dir, 'x.mp3');
    mkdirSync(dir, { recursive: true });
    const dead = path.join(dir, `.x.mp3.999999999.deadbeef${TEMP_SUFFIX}`);
    const live = path.join(dir, `.x.mp3.${process.ppid}.cafebabe${TEMP_SUFFIX}`);
    writeFileSync(dead, 'partial');
    writeFileSync(live, 'partial');
    expect(await removeStaleTemps(dest)).toBe(1);
    expect(existsSync(dead)).toBe(false);
    expect(existsSync(live)).toBe(true);
  });
});
