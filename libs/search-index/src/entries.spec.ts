import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { cuesToEntries, entryId, isEntryFileCurrent, buildEntryFile, type EntryEpisode } from './entries';
import { parseSrt } from './srt';

const fixtures = path.join(__dirname, 'test-fixtures');
const episode: EntryEpisode = {
  id: 'guid-1',
  podcast: 'show',
  fileKey: '2024-01-01_ep_abc',
  title: 'Episode one',
  published: '2024-01-01T00:00:00.000Z',
};

describe('SRT -> search entries (fixtures with expected JSON)', () => {
  it.each(['sentences', 'fifteen-seconds', 'unicode', 'empty', 'overlapping'])('%s', (name) => {
    const srt = readFileSync(path.join(fixtures, `${name}.srt`), 'utf8');
    const expected = JSON.parse(readFileSync(path.join(fixtures, `${name}.expected.json`), 'utf8'));
    expect(cuesToEntries(parseSrt(srt).cues, episode)).toEqual(expected);
  });

  it('entry ids are unique within an episode even with cues sharing a start', () => {
    const srt = readFileSync(path.join(fixtures, 'overlapping.srt'), 'utf8');
    const ids = cuesToEntries(parseSrt(srt).cues, episode).map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('ids come from the episode id and start ms, not from order or file key', () => {
    expect(entryId('guid-1', 10000)).toBe('c1ce8282f097d63f-10000');
    const srt = readFileSync(path.join(fixtures, 'sentences.srt'), 'utf8');
    const renamed = cuesToEntries(parseSrt(srt).cues, { ...episode, fileKey: 'other', title: 'Other' });
    expect(renamed.map((e) => e.id)).toEqual(cuesToEntries(parseSrt(srt).cues, episode).map((e) => e.id));
    const otherEpisode = cuesToEntries(parseSrt(srt).cues, { ...episode, id: 'guid-2' });
    expect(otherEpisode[0].id).not.toBe('c1ce8282f097d63f-0');
  });

  it('counts blocks without timing as bad instead of guessing', () => {
    const parsed = parseSrt('1\nnot a timing line\nhello\n\n2\n00:00:01,000 --> 00:00:02,000\nok\n');
    expect(parsed.badBlocks).toBe(1);
    expect(parsed.cues).toEqual([{ startMs: 1000, endMs: 2000, text: 'ok' }]);
  });

  it('an entry file is current only for the same SRT hash, metadata and format', () => {
    const file = JSON.parse(JSON.stringify(buildEntryFile(episode, 'abc', [])));
    expect(isEntryFileCurrent(file, episode, 'abc')).toBe(true);
    expect(isEntryFileCurrent(file, episode, 'abd')).toBe(false);
    expect(isEntryFileCurrent(file, { ...episode, title: 'Renamed' }, 'abc')).toBe(false);
    expect(isEntryFileCurrent(file, { ...episode, published: undefined }, 'abc')).toBe(false);
    expect(isEntryFileCurrent({ ...file, format: 0 }, episode, 'abc')).toBe(false);
  });
});
