import type { ExecutorContext } from '@nx/devkit';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { keys, SitePaths, stateFile, writeJsonAtomic, type EpisodeManifest } from '@podline/config';
import { makeTone } from '@podline/media/testing';
import { readRunRecords } from '@podline/report';
import { writeTestModel } from '@podline/transcription/testing';
import executor from './executor';

/** The executor end to end on a scratch workspace: options in, SRTs and the state file out. */
describe('transcribe executor', () => {
  let root: string;
  const env = { ...process.env };

  beforeAll(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'transcribe-exec-'));
    writeFileSync(path.join(root, 'nx.json'), '{}');
    delete process.env.PODLINE_DATA_DIR;
    delete process.env.PODLINE_MODELS_DIR;
    process.env.PODLINE_RUN_ID = 'test-run';
    const dir = path.join(root, 'sites', 'demo');
    mkdirSync(path.join(dir, 'transcripts'), { recursive: true });
    writeFileSync(
      path.join(dir, 'site.config.json'),
      JSON.stringify({
        id: 'demo',
        title: 'Demo',
        podcasts: [{ id: 'show', title: 'Show', feedUrl: 'file:feed.xml' }],
        transcription: { model: 'tiny-test', language: 'en' },
      }),
    );
    writeFileSync(path.join(dir, 'transcripts', '1.vtt'), 'WEBVTT\n\n00:00.000 --> 00:01.000\nHello from the feed\n');
    const paths = new SitePaths('demo', root);
    const episodes = [];
    for (const [n, link] of [[1, true], [2, false]] as const) {
      const fileKey = `2024-01-0${n}_ep${n}`;
      await makeTone(paths.audioFile('show', fileKey), 3, 300 + n * 100);
      const data = readFileSync(paths.audioFile('show', fileKey));
      episodes.push({
        id: `ep${n}`,
        idSource: 'guid' as const,
        podcast: 'show',
        fileKey,
        title: `Episode ${n}`,
        published: `2024-01-0${n}T00:00:00Z`,
        status: 'downloaded' as const,
        audio: { key: keys.audio('show', fileKey), size: data.length, sha256: createHash('sha256').update(data).digest('hex') },
        ...(link ? { transcripts: [{ url: 'file:transcripts/1.vtt', type: 'text/vtt' }] } : {}),
      });
    }
    const manifest: EpisodeManifest = { version: 1, site: 'demo', episodes };
    await writeJsonAtomic(paths.manifestFile, manifest);
  });
  afterAll(() => {
    process.env = { ...env };
    rmSync(root, { recursive: true, force: true });
  });

  const ctx = () =>
    ({ root, cwd: root, projectName: 'demo', isVerbose: false, projectsConfigurations: { version: 2, projects: { demo: { root: 'sites/demo' } } } }) as unknown as ExecutorContext;
  const state = () => stateFile(root, 'demo', 'transcribe');

  it('fails without the model, naming it, but still writes the publisher transcript', async () => {
    expect(await executor({ threads: 2 }, ctx())).toEqual({ success: false });
    const [record] = await readRunRecords(root, 'test-run');
    expect(record.problems).toEqual([
      {
        site: 'demo',
        podcast: 'show',
        episode: '2024-01-02_ep2',
        file: 'audio/show/2024-01-02_ep2.mp3',
        message: `Whisper model "tiny-test" is missing: expected ${path.join(root, 'models', 'ggml-tiny-test.bin')}`,
        fix: 'run npx nx run tools:download-model --model=tiny-test',
      },
    ]);
    expect(record.counts).toEqual({ publisher: 1, failed: 1 });
    expect(readFileSync(path.join(root, 'data', 'demo', 'transcripts', 'show', '2024-01-01_ep1.srt'), 'utf8')).toBe('1\n00:00:00,000 --> 00:00:01,000\nHello from the feed\n');
  });

  it('with the model: transcribes the rest; a second run changes nothing', async () => {
    await writeTestModel(path.join(root, 'models', 'ggml-tiny-test.bin'), { kind: 'random', seed: 11 });
    expect(await executor({ threads: 2 }, ctx())).toEqual({ success: true });
    const text = readFileSync(state(), 'utf8');
    const parsed = JSON.parse(text);
    expect(parsed.transcripts.map((t: { key: string; source: string }) => [t.key, t.source])).toEqual([
      ['transcripts/show/2024-01-01_ep1.srt', 'publisher'],
      ['transcripts/show/2024-01-02_ep2.srt', 'whisper'],
    ]);
    expect(text).not.toMatch(/seconds|elapsed|time/i);
    const mtime = statSync(state()).mtimeMs;
    const srtMtime = statSync(path.join(root, 'data', 'demo', 'transcripts', 'show', '2024-01-02_ep2.srt')).mtimeMs;
    expect(await executor({ threads: 2 }, ctx())).toEqual({ success: true });
    expect(statSync(state()).mtimeMs).toBe(mtime);
    expect(statSync(path.join(root, 'data', 'demo', 'transcripts', 'show', '2024-01-02_ep2.srt')).mtimeMs).toBe(srtMtime);
  });

  it('dry run with force touches nothing', async () => {
    const mtime = statSync(state()).mtimeMs;
    expect(await executor({ dryRun: true, force: true }, ctx())).toEqual({ success: true });
    expect(statSync(state()).mtimeMs).toBe(mtime);
  });
});
