import { createHash } from 'node:crypto';
import { mkdtempSync, promises as fsp, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { keys, SitePaths, writeJsonAtomic, type EpisodeManifest, type Log, type SiteConfig } from '@podline/config';
import { SAMPLE_RATE } from '@podline/media';
import { DEFAULT_VAD_SETTINGS, regionsCacheFile, speechRegionsDir } from '@podline/speech';
import { writeLayoutAudio, type LayoutPart, type LayoutSpec } from '@podline/speech/testing';
import type { TranscriptionEngine } from './engine';
import { ENGINES } from './engines';
import { loadSources, rawTranscriptFile } from './records';
import { parseSrt } from './srt';
import { EngineTools, transcribeEpisodeAudio } from './transcribe-episode';
import { transcribeSite } from './transcribe-site';
import { writeTestModel } from './testing';

/**
 * Speech windows through the whole transcribe step: the engine hears only the speech the VAD found
 * (a fake engine records what it got and plants Whisper's failure modes), cues map back into the
 * speech of the original, the guards drop what they must, corrections apply without the engine.
 */

const S = SAMPLE_RATE;
let root: string;
beforeAll(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'podline-speech-site-'));
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  delete ENGINES.fake;
});

const SPEC: LayoutSpec = [
  { kind: 'music', seconds: 10 },
  { kind: 'speech', text: 'Hello and welcome to the show.', seconds: 3 },
  { kind: 'silence', seconds: 0.5 },
  { kind: 'speech', text: 'Today we talk about lighthouses.', seconds: 3 },
  { kind: 'silence', seconds: 5 },
  { kind: 'speech', text: 'See you next week on podline.', seconds: 3 },
  { kind: 'silence', seconds: 4 },
];

/** What the fake engine was given, window by window (sample counts, and the samples). */
const heard: number[] = [];
const heardSamples: Float32Array[] = [];

/** A fake engine: per window, a real cue, a planted loop, a tag and text past the window's audio. */
const fake: TranscriptionEngine = {
  name: 'fake',
  async check() {},
  async open() {
    return {
      async transcribe(pcm: Float32Array) {
        heard.push(pcm.length);
        heardSamples.push(pcm.slice());
        const endMs = (pcm.length * 1000) / S;
        return [
          { startMs: 100, endMs: 1100, text: 'welcome to podline' },
          ...Array.from({ length: 5 }, (_, i) => ({ startMs: 1200 + i * 100, endMs: 1300 + i * 100, text: 'Thank you.' })),
          { startMs: 1900, endMs: 2000, text: '[MUSIC]' },
          { startMs: endMs + 500, endMs: endMs + 2500, text: 'text over nothing' },
        ];
      },
      async close() {},
    };
  },
};

function site(ws: string, engine = 'fake'): SiteConfig {
  const siteDir = path.join(ws, 'sites', 'demo');
  return {
    id: 'demo',
    title: 'Demo',
    siteDir,
    configFile: path.join(siteDir, 'site.config.json'),
    podcasts: [{ id: 'show', title: 'Show', feedUrl: 'file:feed.xml', active: true }],
    storage: { kind: 'local' },
    transcription: { engine: engine as 'whisper', model: 'random', language: 'en', usePublisherTranscripts: true, vad: {}, corrections: path.join(siteDir, 'corrections.txt') },
    index: { kind: 'local' },
  };
}

const log = (lines: string[] = []): Log => ({
  info: (m) => lines.push(`info ${m}`),
  warn: (m) => lines.push(`warn ${m}`),
  debug: (m) => lines.push(`debug ${m}`),
  progress: (m) => lines.push(`progress ${m}`),
});

async function setup(name: string) {
  const ws = path.join(root, name);
  const paths = new SitePaths('demo', ws, {});
  const file = paths.audioFile('show', '2024-05-01_ep');
  const { parts, totalSamples } = await writeLayoutAudio(file, SPEC, { voice: 'synth' });
  const data = await fsp.readFile(file);
  const sha = createHash('sha256').update(data).digest('hex');
  const manifest: EpisodeManifest = {
    version: 1,
    site: 'demo',
    episodes: [{ id: 'ep', idSource: 'guid', podcast: 'show', fileKey: '2024-05-01_ep', title: 'ep', published: '2024-05-01T00:00:00Z', status: 'downloaded', audio: { key: keys.audio('show', '2024-05-01_ep'), size: data.length, sha256: sha } }],
  };
  await writeJsonAtomic(paths.manifestFile, manifest);
  await fsp.mkdir(path.join(ws, 'sites', 'demo'), { recursive: true });
  return { ws, paths, parts, totalSamples, sha };
}

describe('one decode per episode: the speech pass keeps it for the engine', () => {
  it('the engine gets the same samples from the kept decode as from a fresh one; the kept file is removed; one a killed run left is swept', async () => {
    ENGINES.fake = fake;
    const { ws, paths, sha } = await setup('kept');
    const tools = new EngineTools();
    const cacheDir = paths.cacheDir();
    const dir = speechRegionsDir(cacheDir);
    await fsp.mkdir(dir, { recursive: true });
    const stale = path.join(dir, '.decoded-1-aaaa.f32');
    const fresh = path.join(dir, '.decoded-2-bbbb.f32');
    await fsp.writeFile(stale, Buffer.alloc(8));
    await fsp.writeFile(fresh, Buffer.alloc(8));
    const twoDaysAgo = new Date(Date.now() - 48 * 3600 * 1000);
    await fsp.utimes(stale, twoDaysAgo, twoDaysAgo);
    const run = async () => {
      heardSamples.length = 0;
      const out = await transcribeEpisodeAudio({
        audio: { file: paths.audioFile('show', '2024-05-01_ep'), sha256: sha },
        engine: fake,
        settings: { workspaceRoot: ws, model: 'random', language: 'en', threads: 1, beamSize: 1 },
        tools,
        vad: DEFAULT_VAD_SETTINGS,
        cacheDir,
      });
      return { out, samples: heardSamples.slice() };
    };
    try {
      const first = await run(); // the VAD runs: Whisper's windows come from its kept decode
      expect(first.out.speech?.cached).toBe(false);
      expect(first.out.speech?.pcmFile).toMatch(/\.decoded-.*\.f32$/);
      const second = await run(); // the regions are cached: the windows are decoded by ffmpeg
      expect(second.out.speech?.cached).toBe(true);
      expect(second.out.speech?.pcmFile).toBeUndefined();
      expect(first.samples.length).toBeGreaterThan(0);
      expect(first.samples).toEqual(second.samples);
      expect(first.out.srt).toBe(second.out.srt);
      expect((await fsp.readdir(dir)).filter((n) => n.startsWith('.decoded-')).sort()).toEqual(['.decoded-2-bbbb.f32']);
    } finally {
      await tools.close();
    }
  });
});

describe('transcribe with speech windows', () => {
  let ws: string;
  let paths: SitePaths;
  let parts: LayoutPart[];
  let totalSamples: number;
  let sha: string;
  const srtFile = () => paths.transcriptFile('show', '2024-05-01_ep');

  beforeAll(async () => {
    ENGINES.fake = fake;
    ({ ws, paths, parts, totalSamples, sha } = await setup('fake'));
  });

  it('the engine hears only the speech; cues land in the speech of the original; the guards drop the rest', async () => {
    await fsp.writeFile(path.join(ws, 'sites', 'demo', 'corrections.txt'), 'podline => Podline\n');
    heard.length = 0;
    const lines: string[] = [];
    const result = await transcribeSite({ workspaceRoot: ws, site: site(ws), paths, options: {}, log: log(lines) });
    expect(result.problems).toEqual([]);
    // 28.5 s of audio, 9 s of speech: the music and long silences were not sent.
    const sent = heard.reduce((a, b) => a + b, 0);
    expect(sent).toBeLessThan(totalSamples * 0.6);
    expect(sent).toBeGreaterThan(9 * S);
    expect(heard.length).toBe(1); // one 30 s window holds all the speech

    const cache = JSON.parse(await fsp.readFile(regionsCacheFile(paths.cacheDir(), sha), 'utf8'));
    const regions: Array<[number, number]> = cache.regions;
    const cues = parseSrt(await fsp.readFile(srtFile(), 'utf8'));
    // The real cue and the first two "Thank you." of the loop; the tag, three repeats and the text past the audio are gone.
    expect(cues.map((c) => c.text)).toEqual(['welcome to Podline', 'Thank you.', 'Thank you.']);
    const speech = parts.filter((p) => p.kind === 'speech');
    for (const c of cues) {
      const [a, b] = [(c.startMs * S) / 1000, (c.endMs * S) / 1000];
      expect(regions.some(([s, e]) => a >= s - 16 && b <= e + 16)).toBe(true);
    }
    // The first cue is 100 ms into the window: 100 ms into the first region, which starts just before the first sentence.
    const first = regions[0];
    expect(cues[0].startMs).toBe(Math.round((first[0] * 1000) / S + 100));
    expect(first[0]).toBeGreaterThan(speech[0].start - 0.6 * S);
    expect(first[0]).toBeLessThan(speech[0].start + 0.3 * S);
    expect(result.counts).toMatchObject({ transcribed: 1, 'guard.repeated': 3, 'guard.nonSpeech': 1, 'guard.noSpeech': 1 });
    expect(lines).toContainEqual(expect.stringMatching(/guards: 3 repeated, 1 text without speech, 1 non-speech tags/));

    // The record says how it was made; the raw text is kept.
    const rec = (await loadSources(paths))[keys.transcript('show', '2024-05-01_ep')];
    expect(rec).toMatchObject({ engine: 'fake', vad: { model: expect.stringContaining('silero-vad-v5'), settings: expect.objectContaining({ threshold: 0.5, windowSeconds: 30 }) } });
    expect(rec.guards).toMatchObject({ repeated: 3, nonSpeech: 1, noSpeech: 1 });
    expect(await fsp.readFile(rawTranscriptFile(paths, keys.transcript('show', '2024-05-01_ep')), 'utf8')).toContain('welcome to podline');
  });

  it('editing the corrections re-applies them without running the engine again', async () => {
    await fsp.writeFile(path.join(ws, 'sites', 'demo', 'corrections.txt'), 'podline => PodLine FM\nthank you => Thanks\n');
    heard.length = 0;
    const result = await transcribeSite({ workspaceRoot: ws, site: site(ws), paths, options: {}, log: log() });
    expect(result.counts).toEqual({ corrected: 1 });
    expect(heard).toEqual([]);
    expect(parseSrt(await fsp.readFile(srtFile(), 'utf8')).map((c) => c.text)).toEqual(['welcome to PodLine FM', 'Thanks.', 'Thanks.']);
    // Twice changes nothing the second time.
    const again = await transcribeSite({ workspaceRoot: ws, site: site(ws), paths, options: {}, log: log() });
    expect(again.counts).toEqual({});
    expect(again.state).toEqual(result.state);
  });

  it('other VAD settings, or --vad=false, leave the transcript as it is unless forced', async () => {
    const other = await transcribeSite({ workspaceRoot: ws, site: { ...site(ws), transcription: { ...site(ws).transcription, vad: { padMs: 100 } } }, paths, options: {}, log: log() });
    expect(other.counts).toEqual({ outdated: 1 });
    const off = await transcribeSite({ workspaceRoot: ws, site: site(ws), paths, options: { vad: false }, log: log() });
    expect(off.counts).toEqual({ outdated: 1 });
    heard.length = 0;
    const forced = await transcribeSite({ workspaceRoot: ws, site: site(ws), paths, options: { vad: false, force: true, windowSeconds: 600 }, log: log() });
    expect(forced.counts).toMatchObject({ transcribed: 1 });
    expect(heard).toEqual([totalSamples]); // the whole audio, as before
    expect((await loadSources(paths))[keys.transcript('show', '2024-05-01_ep')].vad).toBe(false);
  });

  it('a publisher transcript gets the corrections too', async () => {
    const { ws: w, paths: p } = await setup('publisher');
    await fsp.writeFile(path.join(w, 'sites', 'demo', 'corrections.txt'), 'pod line => Podline\n');
    await fsp.writeFile(path.join(w, 'sites', 'demo', 'ep.srt'), '1\n00:00:01,000 --> 00:00:02,000\nthis is pod line\n');
    const manifest = JSON.parse(await fsp.readFile(p.manifestFile, 'utf8')) as EpisodeManifest;
    manifest.episodes[0].transcripts = [{ url: 'file:ep.srt', type: 'application/x-subrip' }];
    await writeJsonAtomic(p.manifestFile, manifest);
    const result = await transcribeSite({ workspaceRoot: w, site: site(w), paths: p, options: {}, log: log() });
    expect(result.counts).toEqual({ publisher: 1 });
    expect(await fsp.readFile(p.transcriptFile('show', '2024-05-01_ep'), 'utf8')).toBe('1\n00:00:01,000 --> 00:00:02,000\nthis is Podline\n');
  });

  it('real Whisper (a generated model) on speech windows', async () => {
    const { ws: w, paths: p } = await setup('whisper');
    await writeTestModel(path.join(w, 'models', 'ggml-random.bin'), { kind: 'random', seed: 5 });
    const lines: string[] = [];
    const result = await transcribeSite({ workspaceRoot: w, site: site(w, 'whisper'), paths: p, options: { threads: 2 }, log: log(lines) });
    expect(result.problems).toEqual([]);
    expect(result.counts).toMatchObject({ transcribed: 1, audioSeconds: 29 });
    expect(result.counts.speechSeconds).toBeGreaterThanOrEqual(9);
    expect(result.counts.speechSeconds).toBeLessThan(16);
    const rec = (await loadSources(p))[keys.transcript('show', '2024-05-01_ep')];
    expect(rec.vad).toMatchObject({ settings: { windowSeconds: 30 } });
    // Every cue inside the speech regions of the original.
    const regions: Array<[number, number]> = JSON.parse(await fsp.readFile(regionsCacheFile(p.cacheDir(), rec.audioSha256), 'utf8')).regions;
    for (const c of parseSrt(await fsp.readFile(p.transcriptFile('show', '2024-05-01_ep'), 'utf8'))) {
      expect(regions.some(([s, e]) => (c.startMs * S) / 1000 >= s - 16 && (c.endMs * S) / 1000 <= e + 16)).toBe(true);
    }
  });
});
