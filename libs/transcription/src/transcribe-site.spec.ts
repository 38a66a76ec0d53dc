import { createHash } from 'node:crypto';
import { mkdtempSync, promises as fsp, rmSync, statSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { keys, SitePaths, writeJsonAtomic, type EpisodeManifest, type EpisodeRecord, type Log, type SiteConfig } from '@podline/config';
import { makeTone } from '@podline/media/testing';
import { loadSources, transcribeSite, validateSrt, type TranscribeOptions } from './index';
import { writeTestModel } from './testing/ggml-writer';

/**
 * The whole transcribe path on a scratch workspace: manifest → publisher transcripts (file: and
 * http on loopback) or Whisper (a generated random-weights model) → SRT files, source records and
 * the deterministic state; then the re-run, bad audio and a missing model.
 */

const SRT_FROM_PUBLISHER = '1\n00:00:01,000 --> 00:00:02,000\nFrom the publisher\n';
const JSON_FROM_PUBLISHER = JSON.stringify({ version: '1.0.0', segments: [{ startTime: 0.5, endTime: 1.5, body: 'JSON words' }] });

let root: string;
let server: http.Server;
let base: string;
let served = 0;

function sha256(data: Buffer | string) {
  return createHash('sha256').update(data).digest('hex');
}

function logger(lines: string[]): Log {
  return {
    info: (m) => lines.push(`info ${m}`),
    warn: (m) => lines.push(`warn ${m}`),
    debug: (m) => lines.push(`debug ${m}`),
    progress: (m) => lines.push(`progress ${m}`),
  };
}

function siteConfig(workspace: string, model = 'random'): SiteConfig {
  const siteDir = path.join(workspace, 'sites', 'demo');
  return {
    id: 'demo',
    title: 'Demo',
    siteDir,
    configFile: path.join(siteDir, 'site.config.json'),
    podcasts: [{ id: 'show', title: 'Show', feedUrl: 'file:feed.xml', active: true }],
    storage: { kind: 'local' },
    transcription: { engine: 'whisper', model, language: 'en', usePublisherTranscripts: true, prompt: 'Demo show', vad: {}, corrections: path.join(siteDir, 'corrections.txt') },
    network: { allowPrivateAddresses: true }, // publisher transcripts are served on 127.0.0.1
    index: { kind: 'local' },
  };
}

async function episode(paths: SitePaths, fileKey: string, published: string, audio: Buffer | 'tone', extra: Partial<EpisodeRecord> = {}): Promise<EpisodeRecord> {
  const file = paths.audioFile('show', fileKey);
  if (audio === 'tone') await makeTone(file, 5, 330);
  else {
    await fsp.mkdir(path.dirname(file), { recursive: true });
    await fsp.writeFile(file, audio);
  }
  const data = await fsp.readFile(file);
  return {
    id: fileKey,
    idSource: 'guid',
    podcast: 'show',
    fileKey,
    title: fileKey,
    published,
    durationSeconds: 5,
    status: 'downloaded',
    audio: { key: keys.audio('show', fileKey), size: data.length, sha256: sha256(data) },
    ...extra,
  };
}

async function workspace(name: string, episodes: (paths: SitePaths) => Promise<EpisodeRecord[]>) {
  const ws = path.join(root, name);
  const paths = new SitePaths('demo', ws, {});
  const manifest: EpisodeManifest = { version: 1, site: 'demo', episodes: await episodes(paths) };
  await writeJsonAtomic(paths.manifestFile, manifest);
  return { ws, paths };
}

beforeAll(async () => {
  root = mkdtempSync(path.join(os.tmpdir(), 'podline-transcribe-'));
  server = http.createServer((req, res) => {
    served++;
    if (req.url === '/t/ep3.json') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON_FROM_PUBLISHER);
    } else {
      res.writeHead(404);
      res.end('not here');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  rmSync(root, { recursive: true, force: true });
});

describe('transcribeSite', () => {
  let ws: string;
  let paths: SitePaths;
  // Fixed windows over the whole audio (the tones here hold no speech); speech windows: transcribe-speech.spec.ts.
  const options: TranscribeOptions = { threads: 2, windowSeconds: 10, vad: false };

  beforeAll(async () => {
    ({ ws, paths } = await workspace('full', async (p) => [
      await episode(p, '2024-01-01_whisper', '2024-01-01T00:00:00Z', 'tone'),
      // Publisher SRT through a relative file: link (resolved against the feed's location).
      await episode(p, '2024-01-02_publisher-srt', '2024-01-02T00:00:00Z', 'tone', {
        transcripts: [
          { url: 'https://example.invalid/t.html', type: 'text/html' },
          { url: 'file:transcripts/ep2.srt', type: 'application/x-subrip' },
        ],
      }),
      await episode(p, '2024-01-03_publisher-json', '2024-01-03T00:00:00Z', 'tone', {
        transcripts: [{ url: `${base}/t/ep3.json`, type: 'application/json' }],
      }),
      // A broken publisher link falls back to Whisper.
      await episode(p, '2024-01-04_broken-link', '2024-01-04T00:00:00Z', 'tone', {
        transcripts: [{ url: `${base}/t/missing.vtt`, type: 'text/vtt' }],
      }),
      await episode(p, '2024-01-05_corrupt', '2024-01-05T00:00:00Z', Buffer.from('ID3 not really an mp3 '.repeat(100))),
      await episode(p, '2024-01-06_empty', '2024-01-06T00:00:00Z', Buffer.alloc(0)),
      { ...(await episode(p, '2024-01-07_not-downloaded', '2024-01-07T00:00:00Z', 'tone')), status: 'new', audio: undefined },
    ]));
    await fsp.mkdir(path.join(ws, 'sites', 'demo', 'transcripts'), { recursive: true });
    await fsp.writeFile(path.join(ws, 'sites', 'demo', 'transcripts', 'ep2.srt'), SRT_FROM_PUBLISHER);
    await writeTestModel(path.join(ws, 'models', 'ggml-random.bin'), { kind: 'random', seed: 5 });
  });

  it('transcribes what is missing, newest first, with clear per-episode errors', async () => {
    const lines: string[] = [];
    const result = await transcribeSite({ workspaceRoot: ws, site: siteConfig(ws), paths, options, log: logger(lines) });

    expect(result.counts).toEqual({ publisher: 2, transcribed: 2, failed: 2, audioSeconds: 10 });
    // Newest first: the order episodes were worked on.
    const order = lines.filter((l) => /^info show\/\S+ \[\d\/6\]:/.test(l)).map((l) => l.split(' ')[1]);
    expect(order).toEqual(['show/2024-01-04_broken-link', 'show/2024-01-03_publisher-json', 'show/2024-01-02_publisher-srt', 'show/2024-01-01_whisper']);
    expect(lines).toContainEqual(expect.stringMatching(/^progress show\/2024-01-01_whisper \[6\/6\] 0:05 of 0:05, [\d.]+× real time$/));
    expect(lines).toContainEqual(expect.stringMatching(/^warn show\/2024-01-04_broken-link \[3\/6\]: could not fetch the publisher transcript .*missing\.vtt: HTTP 404 Not Found from .*missing\.vtt; falling back to whisper$/));

    expect(result.problems).toEqual([
      {
        site: 'demo',
        podcast: 'show',
        episode: '2024-01-06_empty',
        file: 'audio/show/2024-01-06_empty.mp3',
        message: 'audio file is empty (0 bytes): the download was cut short',
        fix: 'download the episode again (delete the audio file and run the rss target)',
      },
      expect.objectContaining({
        episode: '2024-01-05_corrupt',
        file: 'audio/show/2024-01-05_corrupt.mp3',
        // Under load ffmpeg may exit after its output closed: then the decode yields no samples instead of an exit code.
        message: expect.stringMatching(/^(ffmpeg could not decode the audio: ffmpeg exited with code 1: |ffmpeg decoded no audio samples from the file)/),
        fix: 'download the episode again (delete the audio file and run the rss target)',
      }),
    ]);

    // SRTs: publisher ones converted, Whisper ones valid with monotonic times inside the audio.
    const read = (fk: string) => fsp.readFile(paths.transcriptFile('show', fk), 'utf8');
    expect(await read('2024-01-02_publisher-srt')).toBe(SRT_FROM_PUBLISHER);
    expect(await read('2024-01-03_publisher-json')).toBe('1\n00:00:00,500 --> 00:00:01,500\nJSON words\n');
    for (const fk of ['2024-01-01_whisper', '2024-01-04_broken-link']) {
      const cues = validateSrt(await read(fk));
      for (const c of cues) expect(c.endMs).toBeLessThanOrEqual(5000);
    }
    await expect(fsp.access(paths.transcriptFile('show', '2024-01-05_corrupt'))).rejects.toThrow();
    // No temp files left behind.
    expect((await fsp.readdir(path.dirname(paths.transcriptFile('show', 'x')))).sort()).toEqual(
      ['2024-01-01_whisper.srt', '2024-01-02_publisher-srt.srt', '2024-01-03_publisher-json.srt', '2024-01-04_broken-link.srt'],
    );

    // Source records (local only) and the deterministic state.
    const sources = await loadSources(paths);
    expect(sources['transcripts/show/2024-01-01_whisper.srt']).toEqual({
      source: 'whisper',
      engine: 'whisper',
      model: 'random',
      prompt: 'Demo show',
      vad: false,
      audioSha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      transcriptSha256: sha256(await read('2024-01-01_whisper')),
      correctionsSha256: '',
      // What this machine achieved, for the next runs' estimates.
      durationSeconds: expect.any(Number),
      speed: expect.any(Number),
    });
    expect(sources['transcripts/show/2024-01-03_publisher-json.srt']).toMatchObject({ source: 'publisher', format: 'json', url: `${base}/t/ep3.json` });
    expect(result.state).toEqual({
      transcripts: [
        { key: 'transcripts/show/2024-01-01_whisper.srt', sha256: sha256(await read('2024-01-01_whisper')), source: 'whisper' },
        { key: 'transcripts/show/2024-01-02_publisher-srt.srt', sha256: sha256(SRT_FROM_PUBLISHER), source: 'publisher' },
        { key: 'transcripts/show/2024-01-03_publisher-json.srt', sha256: sha256(await read('2024-01-03_publisher-json')), source: 'publisher' },
        { key: 'transcripts/show/2024-01-04_broken-link.srt', sha256: sha256(await read('2024-01-04_broken-link')), source: 'whisper' },
      ],
    });
  });

  it('does nothing on a second run but retry the failures; state unchanged', async () => {
    const before = statSync(paths.transcriptFile('show', '2024-01-01_whisper')).mtimeMs;
    const servedBefore = served;
    const first = await transcribeSite({ workspaceRoot: ws, site: siteConfig(ws), paths, options, log: logger([]) });
    const again = await transcribeSite({ workspaceRoot: ws, site: siteConfig(ws), paths, options, log: logger([]) });
    expect(again.counts).toEqual({ failed: 2 });
    expect(again.problems.map((p) => p.episode)).toEqual(['2024-01-06_empty', '2024-01-05_corrupt']);
    expect(again.state).toEqual(first.state);
    expect(served).toBe(servedBefore);
    expect(statSync(paths.transcriptFile('show', '2024-01-01_whisper')).mtimeMs).toBe(before);
  });

  it('keeps transcripts made with another model unless forced; redoes when the audio changed', async () => {
    const lines: string[] = [];
    const other = await transcribeSite({ workspaceRoot: ws, site: siteConfig(ws), paths, options: { ...options, model: 'other', maxEpisodes: 1 }, log: logger(lines) });
    // Only the two failures are attempted (the newest first, one per maxEpisodes), with the missing model.
    expect(other.counts).toEqual({ outdated: 2, failed: 1, pending: 1 });
    expect(other.problems[0]).toMatchObject({ episode: '2024-01-06_empty' });

    const forced = await transcribeSite({ workspaceRoot: ws, site: siteConfig(ws), paths, options: { ...options, force: true, maxEpisodes: 1 }, log: logger([]) });
    expect(forced.problems.map((p) => p.episode)).toEqual(['2024-01-06_empty']);

    // New audio for an episode (the manifest's sha changes): re-transcribed without force.
    const manifest = JSON.parse(await fsp.readFile(paths.manifestFile, 'utf8')) as EpisodeManifest;
    manifest.episodes = manifest.episodes.filter((e) => e.fileKey === '2024-01-01_whisper');
    manifest.episodes[0].audio!.sha256 = 'f'.repeat(64);
    await writeJsonAtomic(paths.manifestFile, manifest);
    const redo = await transcribeSite({ workspaceRoot: ws, site: siteConfig(ws), paths, options, log: logger([]) });
    expect(redo.counts).toEqual({ transcribed: 1, audioSeconds: 5 });
    expect((await loadSources(paths))['transcripts/show/2024-01-01_whisper.srt'].audioSha256).toBe('f'.repeat(64));
  });

  it('without a model: publisher transcripts still work, Whisper episodes fail with the fetch command', async () => {
    const { ws: bare, paths: p } = await workspace('no-model', async (pp) => [
      await episode(pp, '2024-02-01_needs-whisper', '2024-02-01T00:00:00Z', 'tone'),
      await episode(pp, '2024-02-02_has-json', '2024-02-02T00:00:00Z', 'tone', { transcripts: [{ url: `${base}/t/ep3.json`, type: 'application/json' }] }),
    ]);
    const result = await transcribeSite({ workspaceRoot: bare, site: siteConfig(bare, 'base.en'), paths: p, options, log: logger([]) });
    expect(result.counts).toEqual({ publisher: 1, failed: 1 });
    expect(result.problems).toEqual([
      {
        site: 'demo',
        podcast: 'show',
        episode: '2024-02-01_needs-whisper',
        file: 'audio/show/2024-02-01_needs-whisper.mp3',
        message: `Whisper model "base.en" is missing: expected ${path.join(bare, 'models', 'ggml-base.en.bin')}`,
        fix: 'run npx nx run tools:download-model --model=base.en',
      },
    ]);
  });

  it('an SRT without a local record (e.g. pulled from the bucket) counts as done', async () => {
    const { ws: other, paths: p } = await workspace('pulled', async (pp) => [await episode(pp, '2024-03-01_pulled', '2024-03-01T00:00:00Z', 'tone')]);
    await fsp.mkdir(path.dirname(p.transcriptFile('show', '2024-03-01_pulled')), { recursive: true });
    await fsp.writeFile(p.transcriptFile('show', '2024-03-01_pulled'), SRT_FROM_PUBLISHER);
    const result = await transcribeSite({ workspaceRoot: other, site: siteConfig(other, 'base.en'), paths: p, options, log: logger([]) });
    expect(result.counts).toEqual({});
    expect(result.problems).toEqual([]);
    expect(result.state).toEqual({ transcripts: [{ key: 'transcripts/show/2024-03-01_pulled.srt', sha256: sha256(SRT_FROM_PUBLISHER), source: 'unknown' }] });
  });

  it('dry run says what it would do and changes nothing', async () => {
    const { ws: dry, paths: p } = await workspace('dry', async (pp) => [await episode(pp, '2024-04-01_new', '2024-04-01T00:00:00Z', 'tone')]);
    const lines: string[] = [];
    const result = await transcribeSite({ workspaceRoot: dry, site: siteConfig(dry, 'base.en'), paths: p, options: { ...options, dryRun: true }, log: logger(lines) });
    expect(result).toEqual({ state: undefined, counts: { wouldTranscribe: 1 }, problems: [] });
    expect(lines).toContain('info would transcribe show/2024-04-01_new with whisper base.en');
    expect(lines).toContain(`warn Whisper model "base.en" is missing: expected ${path.join(dry, 'models', 'ggml-base.en.bin')} — run npx nx run tools:download-model --model=base.en`);
    await expect(fsp.access(p.transcriptFile('show', '2024-04-01_new'))).rejects.toThrow();
    await expect(fsp.access(p.cacheDir())).rejects.toThrow();
  });

  it('transcription.parallel: several episodes at once, sharing the threads, with the transcripts of one at a time', async () => {
    const three = async (pp: SitePaths) => [
      await episode(pp, '2024-05-01_a', '2024-05-01T00:00:00Z', 'tone'),
      await episode(pp, '2024-05-02_b', '2024-05-02T00:00:00Z', 'tone'),
    ];
    const one = await workspace('one-at-a-time', three);
    const two = await workspace('two-at-once', three);
    for (const w of [one, two]) await writeTestModel(path.join(w.ws, 'models', 'ggml-random.bin'), { kind: 'random', seed: 5 });
    const windows = { vad: false, windowSeconds: 2.5 };
    // One at a time with one thread, against two at once on two threads (one each).
    const sequential = await transcribeSite({ workspaceRoot: one.ws, site: siteConfig(one.ws), paths: one.paths, options: { ...windows, threads: 1 }, log: logger([]) });
    const lines: string[] = [];
    const site = siteConfig(two.ws);
    site.transcription.parallel = 2;
    const parallel = await transcribeSite({ workspaceRoot: two.ws, site, paths: two.paths, options: { ...windows, threads: 2 }, log: logger(lines) });
    expect(parallel.problems).toEqual([]);
    expect(parallel.counts).toEqual(sequential.counts);
    expect(parallel.counts.transcribed).toBe(2);
    expect(lines).toContain('info 2 episodes: 2 at once, 1 thread(s) each (transcription.parallel)');
    // The estimate printed first counts the two slots.
    expect(lines).toContainEqual(expect.stringMatching(/^info transcribing 2 episodes \(.* of audio for the engine\): about .* real time \(.*\), 2 episodes at once$/));
    // Both ran at once: their per-window progress lines interleave (one at a time: A A B B).
    const order = lines.filter((l) => l.startsWith('progress ')).map((l) => l.split(' ')[1]);
    const switches = order.filter((label, i) => i > 0 && label !== order[i - 1]).length;
    expect(switches).toBeGreaterThan(1);
    // The same transcripts and the same state as one at a time; every record saved.
    expect(parallel.state).toEqual(sequential.state);
    const records = await loadSources(two.paths);
    for (const fileKey of ['2024-05-01_a', '2024-05-02_b']) {
      expect(await fsp.readFile(two.paths.transcriptFile('show', fileKey), 'utf8')).toBe(await fsp.readFile(one.paths.transcriptFile('show', fileKey), 'utf8'));
      expect(records[keys.transcript('show', fileKey)]).toMatchObject({ source: 'whisper', model: 'random' });
    }
  }, 300_000);
});
