/**
 * End to end, as the README's "Your own podcast" section runs it: `nx g site --storage=local` for a feed
 * served on 127.0.0.1 whose episodes carry publisher transcripts (so no Whisper model is needed), then
 * `nx run <site>:index` and `nx run <site>:search`.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { createTempWorkspace, type TempWorkspace } from '@podline/testing/temp-workspace';
import { fakeMp3, startFeedServer, type FeedServer } from '@podline/testing/http-feed-server';

jest.setTimeout(300_000);

const TOPICS = ['lighthouse keepers and the foghorn', 'how honey bees find their way home'];

function serveShow(server: FeedServer) {
  const items = TOPICS.map((topic, i) => {
    const n = i + 1;
    server.route(`/show/ep${n}.mp3`, { body: fakeMp3(30_000 + n, n) });
    server.route(`/show/ep${n}.srt`, {
      body: `1\n00:00:00,000 --> 00:00:05,000\nToday: ${topic}.\n\n2\n00:00:05,000 --> 00:00:09,000\nThanks for listening.\n`,
      contentType: 'application/x-subrip',
    });
    return `<item><title>Episode ${n}</title><guid>my-show-${n}</guid><pubDate>Mon, 0${n} Nov 2026 08:00:00 GMT</pubDate>
      <enclosure url="${server.url(`/show/ep${n}.mp3`)}" type="audio/mpeg" length="${30_000 + n}"/>
      <podcast:transcript url="${server.url(`/show/ep${n}.srt`)}" type="application/x-subrip" language="en"/></item>`;
  }).join('\n');
  server.route('/show.xml', {
    body: `<?xml version="1.0"?><rss version="2.0" xmlns:podcast="https://podcastindex.org/namespace/1.0"><channel>
      <title>My Show</title><link>https://example.com/</link><description>d</description>${items}</channel></rss>`,
    contentType: 'application/rss+xml',
  });
}

describe('your own podcast: a local site from the generator to a search', () => {
  let server: FeedServer;
  let ws: TempWorkspace;

  beforeAll(async () => {
    server = await startFeedServer();
    serveShow(server);
    ws = createTempWorkspace();
  });
  afterAll(async () => {
    ws?.cleanup();
    await server?.close();
  });

  it('nx g site --storage=local adds the site without Terraform', async () => {
    const res = await ws.nx(['g', '@podline/ingest:site', 'my-show', '--storage=local', '--title=My Show', `--feedUrl=${server.url('/show.xml')}`, '--no-interactive']);
    if (res.code !== 0) throw new Error(res.output);
    const printed = res.output.replace(/\x1b\[[0-9;]*m/g, '');
    expect(printed).toContain('CREATE sites/my-show/site.config.json');
    expect(printed).toContain('Site "my-show" added');
    expect(existsSync(path.join(ws.root, 'terraform'))).toBe(false);
    const config = JSON.parse(readFileSync(path.join(ws.root, 'sites', 'my-show', 'site.config.json'), 'utf8'));
    expect(config.storage).toEqual({ kind: 'local' });
    expect(config.index).toEqual({ kind: 'local' });
    // The feed, its enclosures and transcripts are served on 127.0.0.1: the operator allows that explicitly.
    writeFileSync(path.join(ws.root, 'sites', 'my-show', 'site.config.json'), JSON.stringify({ ...config, network: { allowPrivateAddresses: true } }, null, 2));
  });

  it('index runs the whole pipeline with the publisher transcripts, and search finds both episodes', async () => {
    const res = await ws.nx(['run', 'my-show:index', '--outputStyle=static']);
    if (res.code !== 0) throw new Error(res.output);
    const report = JSON.parse(readFileSync(path.join(ws.dataDir, '.reports', 'latest.json'), 'utf8')) as { rows: Array<{ target: string; status: string; counts?: Record<string, number> }> };
    expect(report.rows.map((r) => `${r.target}:${r.status}`)).toEqual(['pre-sync', 'check', 'rss', 'transcribe', 'upload', 'index'].map((t) => `${t}:success`));
    expect(report.rows.find((r) => r.target === 'transcribe')?.counts?.publisher).toBe(2);

    const bees = await ws.nx(['run', 'my-show:search', '--query=honey bees']);
    if (bees.code !== 0) throw new Error(bees.output);
    expect(bees.stdout).toContain('Episode 2');
    expect(bees.stdout).not.toContain('Episode 1');
    const foghorn = await ws.nx(['run', 'my-show:search', '--query=foghorn', '--json']);
    if (foghorn.code !== 0) throw new Error(foghorn.output);
    expect(foghorn.stdout).toContain('Episode 1');
  });
});
