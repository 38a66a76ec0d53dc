import { createHash } from 'node:crypto';
import { mkdtempSync, promises as fsp, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { keys, SitePaths, writeJsonAtomic, type EpisodeRecord, type Log, type SiteConfig } from '@podline/config';
import { transcribeSite } from './index';
import { DEFAULT_TRANSCRIPT_MAX_BYTES, fetchTranscriptText } from './publisher';

/**
 * Publisher transcript links come from feeds and from the bucket's manifest: untrusted. A link may not make
 * Podline read this machine's files (directly or through a redirect), reach loopback or private hosts unless the
 * site allows it, or exhaust memory or time (gzip bombs, endless or trickling bodies).
 */

const SECRET = '1\n00:00:01,000 --> 00:00:02,000\nthe-secret-api-key-4711\n';

let root: string;
let server: http.Server;
let base: string;
let secretFile: string;
let bombBytesSent = 0;

const BOMB_INFLATED = 64e6; // inflates to 64 MB, far above the 20 MB cap
let bomb: Buffer;

function logger(lines: string[]): Log {
  const push = (k: string) => (m: string) => void lines.push(`${k} ${m}`);
  return { info: push('info'), warn: push('warn'), debug: push('debug'), progress: push('progress') };
}

/** Every file under dir, recursively, with its content. */
function allFiles(dir: string): Array<{ file: string; text: string }> {
  const out: Array<{ file: string; text: string }> = [];
  const visit = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const abs = path.join(d, e.name);
      if (e.isDirectory()) visit(abs);
      else if (e.isFile()) out.push({ file: abs, text: readFileSync(abs, 'latin1') });
    }
  };
  visit(dir);
  return out;
}

beforeAll(async () => {
  root = mkdtempSync(path.join(os.tmpdir(), 'podline-trust-'));
  // A secret outside every data folder and bucket, shaped like an SRT so it would parse.
  secretFile = path.join(root, 'outside', 'secret.srt');
  await fsp.mkdir(path.dirname(secretFile), { recursive: true });
  await fsp.writeFile(secretFile, SECRET);
  bomb = gzipSync(Buffer.alloc(BOMB_INFLATED, 0x20), { level: 9 });
  server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    if (url === '/to-file.srt') {
      res.writeHead(302, { location: `file://${secretFile}` });
      res.end();
    } else if (url === '/bomb.srt') {
      res.writeHead(200, { 'content-type': 'application/x-subrip', 'content-encoding': 'gzip', 'content-length': String(bomb.length) });
      res.on('close', () => undefined);
      bombBytesSent = 0;
      const chunkSize = 16 * 1024;
      let off = 0;
      const pump = () => {
        while (off < bomb.length) {
          const part = bomb.subarray(off, off + chunkSize);
          off += part.length;
          bombBytesSent += part.length;
          if (!res.write(part)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    } else if (url === '/endless.srt') {
      res.writeHead(200, { 'content-type': 'application/x-subrip' });
      const line = Buffer.from('1\n00:00:01,000 --> 00:00:02,000\nagain and again\n\n'.repeat(200));
      const pump = () => {
        while (!res.destroyed) if (!res.write(line)) return void res.once('drain', pump);
      };
      pump();
    } else if (url === '/trickle.srt') {
      res.writeHead(200, { 'content-type': 'application/x-subrip' });
      const timer = setInterval(() => res.write('1'), 50);
      res.on('close', () => clearInterval(timer));
    } else if (url === '/ok.srt') {
      res.writeHead(200, { 'content-type': 'application/x-subrip' });
      res.end('1\n00:00:01,000 --> 00:00:02,000\nfine\n');
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  rmSync(root, { recursive: true, force: true });
});

function site(ws: string, feedUrl: string, allowPrivateAddresses: boolean): SiteConfig {
  const siteDir = path.join(ws, 'sites', 'demo');
  return {
    id: 'demo',
    title: 'Demo',
    siteDir,
    configFile: path.join(siteDir, 'site.config.json'),
    podcasts: [{ id: 'show', title: 'Show', feedUrl, active: true }],
    storage: { kind: 'local' },
    // No such model: an episode whose publisher transcript is refused fails fast, naming both reasons.
    transcription: { engine: 'whisper', model: 'no-such-model', language: 'en', usePublisherTranscripts: true },
    network: { allowPrivateAddresses },
    index: { kind: 'local' },
  };
}

async function workspace(name: string, links: Record<string, string>) {
  const ws = path.join(root, name);
  const paths = new SitePaths('demo', ws, {});
  const episodes: EpisodeRecord[] = [];
  for (const [fileKey, url] of Object.entries(links)) {
    const audio = Buffer.from(`ID3${fileKey}`);
    await fsp.mkdir(path.dirname(paths.audioFile('show', fileKey)), { recursive: true });
    await fsp.writeFile(paths.audioFile('show', fileKey), audio);
    episodes.push({
      id: fileKey,
      idSource: 'guid',
      podcast: 'show',
      fileKey,
      title: fileKey,
      published: '2026-11-01T00:00:00Z',
      status: 'downloaded',
      audio: { key: keys.audio('show', fileKey), size: audio.length, sha256: createHash('sha256').update(audio).digest('hex') },
      transcripts: [{ url, type: 'application/x-subrip' }],
    });
  }
  // As rss writes it, or as pre-sync brings it from a bucket someone else can write to.
  await writeJsonAtomic(paths.manifestFile, { version: 1, site: 'demo', episodes });
  return { ws, paths };
}

describe('publisher transcript links are untrusted', () => {
  it('a feed served on loopback cannot make Podline read a local file, directly or through a redirect', async () => {
    const { ws, paths } = await workspace('file-attack', {
      'ep-file': `file://${secretFile}`,
      'ep-missing': `file://${path.join(root, 'outside', 'no-such.srt')}`,
      'ep-relative': 'file:../outside/secret.srt',
      'ep-redirect': `${base}/to-file.srt`,
    });
    const before = statSync(secretFile).atimeMs;
    const lines: string[] = [];
    // The feed itself is on 127.0.0.1 and the site allows that: file: is refused all the same.
    const result = await transcribeSite({ workspaceRoot: ws, site: site(ws, `${base}/feed.xml`, true), paths, options: {}, log: logger(lines) });

    const byEpisode = Object.fromEntries(result.problems.map((p) => [p.episode, p.message]));
    expect(Object.keys(byEpisode).sort()).toEqual(['ep-file', 'ep-missing', 'ep-redirect', 'ep-relative']);
    expect(byEpisode['ep-file']).toMatch(/publisher transcript was not usable either: .*secret\.srt points at a local file; refused/);
    expect(byEpisode['ep-relative']).toMatch(/points at a local file; refused/);
    expect(byEpisode['ep-redirect']).toMatch(/a redirect to the local file file:\/\/.*secret\.srt; refused/);
    // An existing and a missing file get the same answer: the feed learns nothing about this machine's files.
    expect(byEpisode['ep-missing'].replaceAll('no-such.srt', 'secret.srt')).toBe(byEpisode['ep-file']);
    // The warnings name the episode too.
    expect(lines.filter((l) => l.startsWith('warn')).map((l) => /^warn show\/(ep-[a-z]+) \[\d\/4\]: .*refused/.exec(l)?.[1]).sort()).toEqual(['ep-file', 'ep-missing', 'ep-redirect', 'ep-relative']);
    // Nothing made from it, nothing of it anywhere in the workspace (data folder, bucket, state).
    expect(result.counts.publisher ?? 0).toBe(0);
    for (const { file, text } of allFiles(ws)) expect({ file, leaked: text.includes('the-secret-api-key-4711') }).toEqual({ file, leaked: false });
    expect(statSync(secretFile).atimeMs).toBe(before);
  });

  it('loopback and private hosts are refused unless the site config allows them', async () => {
    const { ws, paths } = await workspace('private', { 'ep-loop': `${base}/ok.srt`, 'ep-named': `${base.replace('127.0.0.1', 'localhost')}/ok.srt`, 'ep-meta': 'http://169.254.169.254/latest/meta-data.srt' });
    const refused = await transcribeSite({ workspaceRoot: ws, site: site(ws, 'https://feeds.example.com/feed.xml', false), paths, options: {}, log: logger([]) });
    const byEpisode = Object.fromEntries(refused.problems.map((p) => [p.episode, p.message]));
    expect(byEpisode['ep-loop']).toMatch(/ok\.srt points at 127\.0\.0\.1, a loopback, private or link-local address; refused/);
    // A name is checked on the address it resolves to.
    expect(byEpisode['ep-named']).toMatch(/points at localhost \((127\.0\.0\.1|::1)\), a loopback, private or link-local address; refused/);
    expect(byEpisode['ep-meta']).toMatch(/169\.254\.169\.254, a loopback, private or link-local address; refused/);
    expect(refused.counts.publisher ?? 0).toBe(0);

    // The operator's explicit setting lets the loopback host through (as our tests and local networks need).
    const allowed = await transcribeSite({ workspaceRoot: ws, site: site(ws, 'https://feeds.example.com/feed.xml', true), paths, options: {}, log: logger([]) });
    expect(allowed.counts.publisher).toBe(2);
    expect(readFileSync(paths.transcriptFile('show', 'ep-loop'), 'utf8')).toMatch(/fine/);
  });

  it('a file: feed named by the operator may link files in its own folder only', async () => {
    const { ws, paths } = await workspace('local-feed', { 'ep-inside': 'file:transcripts/ep.srt', 'ep-escape': 'file:../../../outside/secret.srt' });
    const s = site(ws, 'file:feed.xml', false);
    await fsp.mkdir(path.join(s.siteDir, 'transcripts'), { recursive: true });
    await fsp.writeFile(path.join(s.siteDir, 'transcripts', 'ep.srt'), '1\n00:00:01,000 --> 00:00:02,000\nlocal words\n');
    const result = await transcribeSite({ workspaceRoot: ws, site: s, paths, options: {}, log: logger([]) });
    expect(result.counts.publisher).toBe(1);
    expect(result.problems.map((p) => [p.episode, p.message])).toEqual([['ep-escape', expect.stringMatching(/secret\.srt is outside the feed's folder .*; refused/)]]);
    for (const { text } of allFiles(ws)) expect(text.includes('the-secret-api-key-4711')).toBe(false);
  });

  it('a gzip bomb stops at the size cap (after decompression), naming the episode', async () => {
    const { ws, paths } = await workspace('bomb', { 'ep-bomb': `${base}/bomb.srt` });
    const rssBefore = process.memoryUsage().rss;
    const result = await transcribeSite({ workspaceRoot: ws, site: site(ws, 'https://feeds.example.com/feed.xml', true), paths, options: {}, log: logger([]) });
    expect(result.problems).toEqual([
      expect.objectContaining({ episode: 'ep-bomb', message: expect.stringMatching(/could not fetch the publisher transcript .*bomb\.srt: .*bomb\.srt is larger than 20 MB; refused/) }),
    ]);
    expect(DEFAULT_TRANSCRIPT_MAX_BYTES).toBe(20e6);
    // Well under what inflating the whole bomb would take (64 MB of text, twice over as a string).
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(BOMB_INFLATED);
  });

  it('an endless body stops at the cap and a trickling one at the deadline', async () => {
    await expect(fetchTranscriptText(new URL(`${base}/endless.srt`), { policy: { allowPrivateAddresses: true }, maxBytes: 2e6 })).rejects.toThrow(/endless\.srt is larger than 2 MB; refused/);
    const started = Date.now();
    await expect(fetchTranscriptText(new URL(`${base}/trickle.srt`), { policy: { allowPrivateAddresses: true }, timeoutMs: 600 })).rejects.toThrow(/trickle\.srt did not finish within 1 s \(timed out\)/);
    expect(Date.now() - started).toBeLessThan(10_000);
    await expect(fetchTranscriptText(new URL('ftp://example.com/t.srt'))).rejects.toThrow(/uses ftp:, which Podline does not fetch/);
  });
});
