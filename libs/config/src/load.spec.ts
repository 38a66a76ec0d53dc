import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ConfigError, loadSiteConfig, resolveFeedUrl, automationRoleArn, validateSiteConfig } from './index';

const good = {
  id: 'my-show',
  title: 'My Show',
  podcasts: [{ id: 'main', title: 'Main', feedUrl: 'https://example.com/feed.xml' }],
};

describe('loadSiteConfig', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'podline-config-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function write(id: string, content: unknown): string {
    const siteDir = path.join(dir, id);
    mkdirSync(siteDir, { recursive: true });
    const file = path.join(siteDir, 'site.config.json');
    writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
    return file;
  }

  function problemsOf(file: string) {
    try {
      loadSiteConfig(file);
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return (err as ConfigError).problems;
    }
    throw new Error('expected a ConfigError');
  }

  it('loads a minimal config and fills in defaults', () => {
    const site = loadSiteConfig(write('my-show', good));
    expect(site.id).toBe('my-show');
    expect(site.podcasts[0].active).toBe(true);
    expect(site.storage).toEqual({ kind: 'local' });
    expect(site.index).toEqual({ kind: 'local' });
    expect(site.transcription).toMatchObject({ engine: 'whisper', model: 'base.en', language: 'en', usePublisherTranscripts: true });
    expect(site.siteDir).toBe(path.join(dir, 'my-show'));
  });

  it('loads an S3 + Lambda site and derives the automation role ARN', () => {
    const site = loadSiteConfig(
      write('cloud', {
        ...good,
        id: 'cloud',
        storage: { kind: 's3', bucket: 'podline-cloud', region: 'eu-west-1', prefix: 'p/' },
        aws: { accountId: '123456789012' },
        index: { kind: 'lambda', functionName: 'podline-cloud-indexer' },
      }),
    );
    expect(automationRoleArn(site)).toBe('arn:aws:iam::123456789012:role/podline-automation');
  });

  it('names the file and field of a bad id, and the fix', () => {
    const file = write('Bad_Id', { ...good, id: 'Bad_Id' });
    const problems = problemsOf(file);
    expect(problems).toEqual(
      expect.arrayContaining([expect.objectContaining({ field: 'id', message: expect.stringContaining('not a valid id'), fix: expect.stringContaining('lower-case') })]),
    );
    expect(problems[0].file).toContain('site.config.json');
  });

  it('reports a bad feed URL with its field path', () => {
    const problems = problemsOf(write('my-show', { ...good, podcasts: [{ id: 'main', title: 'Main', feedUrl: 'ftp://x/feed' }] }));
    expect(problems).toEqual([expect.objectContaining({ field: 'podcasts[0].feedUrl', message: expect.stringContaining('ftp:') })]);
    const notUrl = problemsOf(write('my-show', { ...good, podcasts: [{ id: 'main', title: 'Main', feedUrl: 'not a url' }] }));
    expect(notUrl[0]).toMatchObject({ field: 'podcasts[0].feedUrl', message: expect.stringContaining('not a URL') });
  });

  it('reports every missing field at once', () => {
    const problems = problemsOf(write('my-show', { id: 'my-show' }));
    expect(problems.map((p) => p.field).sort()).toEqual(['podcasts', 'title']);
    expect(problems.every((p) => p.message === 'is missing')).toBe(true);
  });

  it('reports an id that does not match its folder', () => {
    const problems = problemsOf(write('other-folder', good));
    expect(problems).toEqual([expect.objectContaining({ field: 'id', message: expect.stringContaining('"other-folder"') })]);
  });

  it('reports unknown settings, bad storage forms, duplicate podcast ids and a lambda index without aws', () => {
    const problems = problemsOf(
      write('my-show', {
        ...good,
        colour: 'blue',
        storage: { kind: 's3' },
        podcasts: [good.podcasts[0], good.podcasts[0]],
        index: { kind: 'lambda', functionName: 'f' },
      }),
    );
    const fields = problems.map((p) => p.field);
    expect(fields).toEqual(expect.arrayContaining(['colour', 'storage', 'podcasts[1].id', 'aws']));
  });

  it('reports invalid JSON and a missing file without a stack trace', () => {
    expect(problemsOf(write('my-show', '{ "id": ')).map((p) => p.message)[0]).toMatch(/not valid JSON/);
    expect(problemsOf(path.join(dir, 'nope', 'site.config.json'))[0]).toMatchObject({ message: 'does not exist', fix: expect.stringContaining('nx g site') });
  });

  it('formats problems as one line each with file, field and fix', () => {
    const file = write('my-show', { ...good, aws: { accountId: '12' } });
    expect(() => loadSiteConfig(file)).toThrow(/site\.config\.json: field "aws\.accountId": "12" is not an AWS account id\. Fix: use the 12-digit account id/);
  });

  it('validates without a folder name (generator use)', () => {
    expect(validateSiteConfig(good, 'x.json')).toEqual([]);
  });

  it('resolves relative file: feed URLs against the site folder', () => {
    expect(resolveFeedUrl({ siteDir: '/sites/a' }, 'file:feed.xml')).toBe('file:///sites/a/feed.xml');
    expect(resolveFeedUrl({ siteDir: '/sites/a' }, 'https://x/feed')).toBe('https://x/feed');
  });
});
