/**
 * End to end: a big back catalogue arrives in bounded slices. A site made by `nx g site` with
 * `--maxDownloadsPerRun=3 --maxEpisodesPerRun=2` over a feed of five episodes served on 127.0.0.1: each
 * `nx run <site>:index` downloads and transcribes a slice, newest first, publishes what is done, reports the
 * rest as pending (not failed), and the next run continues, also when only the transcription backlog moved
 * (the rss state unchanged): transcribe is no cache hit then, and is one again once nothing waits.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { createTempWorkspace, type TempWorkspace } from '@podline/testing/temp-workspace';
import { fakeMp3, startFeedServer, type FeedServer } from '@podline/testing/http-feed-server';

jest.setTimeout(600_000);

const TOPICS = ['anchors', 'barnacles', 'compasses', 'driftwood', 'estuaries'];

function serveCatalogue(server: FeedServer) {
  const items = TOPICS.map((topic, i) => {
    const n = i + 1;
    server.route(`/cat/ep${n}.mp3`, { body: fakeMp3(20_000 + n, n) });
    server.route(`/cat/ep${n}.srt`, { body: `1\n00:00:00,000 --> 00:00:05,000\nAll about ${topic}.\n`, contentType: 'application/x-subrip' });
    return `<item><title>Episode ${n}</title><guid>cat-${n}</guid><pubDate>Mon, 0${n} Nov 2026 08:00:00 GMT</pubDate>
      <enclosure url="${server.url(`/cat/ep${n}.mp3`)}" type="audio/mpeg" length="${20_000 + n}"/>
      <podcast:transcript url="${server.url(`/cat/ep${n}.srt`)}" type="application/x-subrip" language="en"/></item>`;
  }).join('\n');
  server.route('/cat.xml', {
    body: `<?xml version="1.0"?><rss version="2.0" xmlns:podcast="https://podcastindex.org/namespace/1.0"><channel>
      <title>Catalogue</title><link>https://example.com/</link><description>d</description>${items}</channel></rss>`,
    contentType: 'application/rss+xml',
    etag: true,
  });
}

type Row = { target: string; status: string; counts?: Record<string, number> };

describe('a big back catalogue in bounded slices', () => {
  let server: FeedServer;
  let ws: TempWorkspace;

  const run = async () => {
    const res = await ws.nx(['run', 'cat:index', '--outputStyle=static']);
    if (res.code !== 0) throw new Error(res.output);
    const report = JSON.parse(readFileSync(path.join(ws.dataDir, '.reports', 'latest.json'), 'utf8')) as { success: boolean; rows: Row[] };
    const row = (t: string) => report.rows.find((r) => r.target === t)!;
    return { report, row, output: res.output };
  };
  /** Which episodes the site's search finds. */
  const searchable = async () => {
    const found: number[] = [];
    for (const [i, topic] of TOPICS.entries()) {
      const res = await ws.nx(['run', 'cat:search', `--query=${topic}`, '--json']);
      if (res.code !== 0) throw new Error(res.output);
      if (res.stdout.includes(`Episode ${i + 1}`)) found.push(i + 1);
    }
    return found;
  };

  beforeAll(async () => {
    server = await startFeedServer();
    serveCatalogue(server);
    ws = createTempWorkspace();
    const res = await ws.nx(['g', '@podline/ingest:site', 'cat', '--storage=local', '--title=Catalogue', `--feedUrl=${server.url('/cat.xml')}`, '--episodes=all', '--maxDownloadsPerRun=3', '--maxEpisodesPerRun=2', '--no-interactive']);
    if (res.code !== 0) throw new Error(res.output);
    expect(res.output).toContain('3 downloads and 2 transcripts per run');
    const file = path.join(ws.root, 'sites', 'cat', 'site.config.json');
    const config = JSON.parse(readFileSync(file, 'utf8'));
    expect(config.downloads).toEqual({ maxPerRun: 3 });
    expect(config.transcription.maxEpisodesPerRun).toBe(2);
    writeFileSync(file, JSON.stringify({ ...config, network: { allowPrivateAddresses: true } }, null, 2));
  });
  afterAll(async () => {
    ws?.cleanup();
    await server?.close();
  });

  it('the first run downloads and transcribes the newest slice, publishes it, and leaves the rest pending', async () => {
    const { report, row, output } = await run();
    expect(report.success).toBe(true);
    expect(row('rss').counts).toMatchObject({ downloaded: 3, pending: 2 });
    expect(row('rss').counts?.failed).toBeUndefined();
    expect(row('transcribe').counts).toMatchObject({ publisher: 2, pending: 1 });
    expect(output).toContain('downloading the newest 3 of 5 episodes (downloads.maxPerRun); 2 wait for the next runs');
    expect(output).toMatch(/transcribing 2 episodes, all from publisher transcripts/);
    expect(server.count('/cat/ep1.mp3') + server.count('/cat/ep2.mp3')).toBe(0);
    expect(await searchable()).toEqual([4, 5]);
  });

  it('the second run continues with the next slice, newest first', async () => {
    const { row } = await run();
    expect(row('rss').counts).toMatchObject({ downloaded: 2 });
    expect(row('rss').counts?.pending).toBeUndefined();
    expect(row('transcribe').status).toBe('success');
    expect(row('transcribe').counts).toMatchObject({ publisher: 2, pending: 1 });
    expect(readdirSync(path.join(ws.dataDir, 'cat', 'transcripts', 'cat')).length).toBe(4);
  });

  it('with nothing new to download, transcribe still takes the last slice instead of a cache hit', async () => {
    const { row } = await run();
    expect(row('rss').counts?.downloaded).toBeUndefined();
    expect(row('transcribe').status).toBe('success');
    expect(row('transcribe').counts).toMatchObject({ publisher: 1 });
    expect(row('transcribe').counts?.pending).toBeUndefined();
    expect(await searchable()).toEqual([1, 2, 3, 4, 5]);
  });

  it('once nothing waits, the slices end: transcribe, upload and index are cache hits', async () => {
    await run(); // the backlog became empty: transcribe checks once, finds nothing to do
    const { row } = await run();
    for (const t of ['transcribe', 'upload', 'index']) expect(`${t}:${row(t).status}`).toBe(`${t}:cached`);
  });
});
