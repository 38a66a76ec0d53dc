import type { ExecutorContext, TaskGraph } from '@nx/devkit';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { stateFile, type EpisodeManifest } from '@podline/config';
import { fakeMp3, startFeedServer, type FeedServer } from '@podline/testing/http-feed-server';
import executor, { batch } from './executor';

function feedXml(server: FeedServer, prefix: string, eps: Array<{ n: number; missing?: boolean }>): string {
  const items = eps
    .map(({ n, missing }) => {
      if (!missing) server.route(`${prefix}/ep${n}.mp3`, { body: fakeMp3(5000 + n, n), contentType: 'audio/mpeg' });
      return `<item><title>Episode ${n}</title><guid>${prefix}-${n}</guid><pubDate>Mon, 0${n} Nov 2026 08:00:00 GMT</pubDate>
        <enclosure url="${server.url(`${prefix}/ep${n}.mp3`)}" type="audio/mpeg"/></item>`;
    })
    .join('\n');
  return `<?xml version="1.0"?><rss version="2.0"><channel><title>${prefix}</title>${items}</channel></rss>`;
}

describe('rss executor', () => {
  let server: FeedServer;
  let root: string;
  const env = { ...process.env };

  beforeAll(async () => {
    server = await startFeedServer();
  });
  afterAll(() => server.close());
  beforeEach(() => {
    server.resetRequests();
    root = mkdtempSync(path.join(tmpdir(), 'rss-exec-'));
    writeFileSync(path.join(root, 'nx.json'), '{}');
    delete process.env.PODLINE_DATA_DIR;
    process.env.PODLINE_RUN_ID = 'test-run';
  });
  afterEach(() => {
    process.env = { ...env };
  });

  function writeSite(id: string, podcasts: Array<{ id: string; path: string }>) {
    const dir = path.join(root, 'sites', id);
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      path.join(dir, 'site.config.json'),
      JSON.stringify({ id, title: id, podcasts: podcasts.map((p) => ({ id: p.id, title: p.id, feedUrl: server.url(p.path) })), network: { allowPrivateAddresses: true } }),
    );
  }

  function context(...sites: string[]): ExecutorContext {
    const projects = Object.fromEntries(sites.map((s) => [s, { root: `sites/${s}` }]));
    return { root, projectName: sites[0], projectsConfigurations: { version: 2, projects }, cwd: root, isVerbose: false } as unknown as ExecutorContext;
  }

  const options = { timeoutSeconds: 2, retries: 0, concurrency: 2 };
  const manifest = (site: string): EpisodeManifest => JSON.parse(readFileSync(path.join(root, 'data', site, 'episode-manifest', 'full-episode-manifest.json'), 'utf8'));

  it('downloads, writes the state file; a second run makes one request per feed and leaves the state untouched', async () => {
    server.route('/a/feed.xml', { body: feedXml(server, '/a', [{ n: 1 }, { n: 2 }]), etag: true });
    server.route('/b/feed.xml', { body: feedXml(server, '/b', [{ n: 3 }]), lastModified: 'Mon, 02 Nov 2026 08:00:00 GMT' });
    writeSite('alpha', [
      { id: 'show-a', path: '/a/feed.xml' },
      { id: 'show-b', path: '/b/feed.xml' },
    ]);
    expect(await executor(options, context('alpha'))).toEqual({ success: true });
    expect(manifest('alpha').episodes.map((e) => [e.podcast, e.status])).toEqual([
      ['show-a', 'downloaded'],
      ['show-a', 'downloaded'],
      ['show-b', 'downloaded'],
    ]);
    const state = stateFile(root, 'alpha', 'rss');
    const stateText = readFileSync(state, 'utf8');
    expect(JSON.parse(stateText).podcasts['show-a']).toMatchObject({ episodes: 2, downloaded: 2, failed: 0 });
    expect(stateText).not.toMatch(/"(seconds|time|date|requests)"/);
    const mtime = statSync(state).mtimeMs;

    server.resetRequests();
    expect(await executor(options, context('alpha'))).toEqual({ success: true });
    expect(server.requests.map((r) => [r.path, r.status]).sort()).toEqual([
      ['/a/feed.xml', 304],
      ['/b/feed.xml', 304],
    ]);
    expect(readFileSync(state, 'utf8')).toBe(stateText);
    expect(statSync(state).mtimeMs).toBe(mtime);
  });

  it('fails the task when an episode fails, after downloading the others; the state records the failure', async () => {
    server.route('/c/feed.xml', { body: feedXml(server, '/c', [{ n: 1 }, { n: 2, missing: true }]) });
    writeSite('gamma', [{ id: 'show-c', path: '/c/feed.xml' }]);
    const errors: string[] = [];
    const spy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      errors.push(String(chunk));
      return true;
    });
    try {
      expect(await executor(options, context('gamma'))).toEqual({ success: false });
    } finally {
      spy.mockRestore();
    }
    expect(errors.join('')).toMatch(/\[gamma:rss\] error: podcast show-c, episode "Episode 2" \(\/c-2\), file audio\/show-c\/2026-11-02_episode-2_\w+\.mp3: download failed: HTTP 404 Not Found/);
    expect(manifest('gamma').episodes.map((e) => e.status)).toEqual(['downloaded', 'failed']);
    const state = JSON.parse(readFileSync(stateFile(root, 'gamma', 'rss'), 'utf8'));
    expect(state.podcasts['show-c']).toMatchObject({ downloaded: 1, failed: 1 });
  });

  it('dry run writes no state and no data', async () => {
    server.route('/d/feed.xml', { body: feedXml(server, '/d', [{ n: 1 }]) });
    writeSite('delta', [{ id: 'show-d', path: '/d/feed.xml' }]);
    expect(await executor({ ...options, dryRun: true }, context('delta'))).toEqual({ success: true });
    expect(existsSync(stateFile(root, 'delta', 'rss'))).toBe(false);
    expect(existsSync(path.join(root, 'data', 'delta', 'episode-manifest'))).toBe(false);
    expect(server.count('/d/ep1.mp3')).toBe(0);
  });

  it('batch: several sites at once, each with its own result', async () => {
    server.route('/e/feed.xml', { body: feedXml(server, '/e', [{ n: 1 }]) });
    server.route('/f/feed.xml', { status: 404 });
    writeSite('echo', [{ id: 'show-e', path: '/e/feed.xml' }]);
    writeSite('foxtrot', [{ id: 'show-f', path: '/f/feed.xml' }]);
    const tasks = Object.fromEntries(['echo', 'foxtrot'].map((s) => [`${s}:rss`, { id: `${s}:rss`, target: { project: s, target: 'rss' } }]));
    const graph = { tasks, dependencies: {}, roots: Object.keys(tasks) } as unknown as TaskGraph;
    const results: Record<string, boolean> = {};
    const spy = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      for await (const r of batch(graph, { 'echo:rss': options, 'foxtrot:rss': options }, options, context('echo', 'foxtrot'))) results[r.task] = r.result.success;
    } finally {
      spy.mockRestore();
    }
    expect(results).toEqual({ 'echo:rss': true, 'foxtrot:rss': false });
    expect(manifest('echo').episodes).toHaveLength(1);
  });
});
