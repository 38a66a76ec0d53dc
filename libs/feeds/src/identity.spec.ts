import { enclosureIdentity, episodeIdentity, makeFileKey, slugify } from './identity';

describe('episodeIdentity', () => {
  it('prefers the guid, then the enclosure without query, then title and date', () => {
    expect(episodeIdentity({ guid: 'g1', title: 't', enclosure: { url: 'https://x/a.mp3?t=1' }, transcripts: [] })).toEqual({ id: 'g1', idSource: 'guid' });
    expect(episodeIdentity({ title: 't', enclosure: { url: 'https://x/a.mp3?t=1#f' }, transcripts: [] })).toEqual({ id: 'https://x/a.mp3', idSource: 'enclosure' });
    expect(episodeIdentity({ title: 't', published: '2026-01-02T00:00:00.000Z', transcripts: [] })).toEqual({ id: 't|2026-01-02T00:00:00.000Z', idSource: 'title-date' });
    expect(episodeIdentity({ transcripts: [] })).toBeUndefined();
  });
  it('unwraps prefix redirects that carry the file URL in the query, and keeps queries that name the file', () => {
    const ids = [12, 13, 14].map((n) => enclosureIdentity(`https://tracker.example/redirect.mp3?https://host/show/ep-${n}.mp3`));
    expect(ids).toEqual(['https://host/show/ep-12.mp3', 'https://host/show/ep-13.mp3', 'https://host/show/ep-14.mp3']);
    expect(enclosureIdentity('https://t.example/r?url=https%3A%2F%2Fhost%2Fep-1.mp3%3Fsrc%3Drss')).toBe('https://host/ep-1.mp3');
    expect(enclosureIdentity('https://host/download.php?id=12')).toBe('https://host/download.php?id=12');
    expect(enclosureIdentity('https://host/get?file=ep-12.mp3&utm=x#t')).toBe('https://host/get?file=ep-12.mp3&utm=x');
    expect(enclosureIdentity('https://host/ep-12.mp3?file=other.mp3')).toBe('https://host/ep-12.mp3');
  });
  it('ignores tracking query strings', () => {
    expect(enclosureIdentity('https://x/a.mp3?utm=1')).toBe(enclosureIdentity('https://x/a.mp3?utm=2'));
  });
});

describe('makeFileKey', () => {
  const safe = /^\d{4}-\d{2}-\d{2}_[a-z0-9-]+_[0-9a-f]{10}$/;
  it('is YYYY-MM-DD_<slug>_<hash>, deterministic', () => {
    const key = makeFileKey('guid-1', 'Hello, World!', '2026-11-02T08:00:00.000Z');
    expect(key).toMatch(/^2026-11-02_hello-world_[0-9a-f]{10}$/);
    expect(makeFileKey('guid-1', 'Hello, World!', '2026-11-02T08:00:00.000Z')).toBe(key);
    expect(makeFileKey('guid-2', 'Hello, World!', '2026-11-02T08:00:00.000Z')).not.toBe(key);
  });
  it.each([
    ['slashes', 'AC/DC: live / unplugged'],
    ['dots', '../../etc/passwd'],
    ['emoji', '🎙️ Episode 🔥 one'],
    ['only emoji', '🎙️🔥'],
    ['300 characters', 'word '.repeat(60)],
    ['accents', 'Café crème à la française'],
  ])('is filesystem-safe for titles with %s', (_name, title) => {
    const key = makeFileKey('id', title, '2026-01-01T00:00:00Z');
    expect(key).toMatch(safe);
    expect(key.length).toBeLessThanOrEqual(10 + 1 + 60 + 1 + 10);
    expect(key).not.toContain('..');
  });
  it('folds accents and falls back to "episode"', () => {
    expect(slugify('Café crème')).toBe('cafe-creme');
    expect(slugify('🎙️')).toBe('episode');
    expect(slugify(undefined)).toBe('episode');
  });
  it('uses 0000-00-00 for undated episodes', () => {
    expect(makeFileKey('id', 'x', undefined)).toMatch(/^0000-00-00_x_/);
  });
});
