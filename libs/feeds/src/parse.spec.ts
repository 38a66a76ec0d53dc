import { decodeFeed, FeedParseError, parseDuration, parseFeedXml } from './parse';
import { rssXml } from './test-feeds';

describe('parseDuration', () => {
  it.each([
    ['3723', 3723],
    ['3723.4', 3723],
    ['62:03', 3723],
    ['1:02:03', 3723],
    ['01:02:03', 3723],
    ['00:00:06', 6],
    ['1h 2m 3s', 3723],
    ['45m', 2700],
  ])('reads %s as %d seconds', (input, seconds) => {
    expect(parseDuration(input)).toBe(seconds);
  });
  it.each(['', 'soon', '1:2:3:4', '-5'])('rejects %j', (input) => {
    expect(parseDuration(input)).toBeUndefined();
  });
});

describe('parseFeedXml', () => {
  it('reads enclosure, guid, dates, iTunes and Podcasting 2.0 fields', async () => {
    const xml = rssXml([
      {
        title: 'First  episode',
        guid: 'g-1',
        date: '2026-11-02T08:00:00Z',
        url: 'https://cdn.example.com/1.mp3?x=1',
        length: 1234,
        duration: '1:02:03',
        extra:
          '<description>&lt;p&gt;Hello &lt;b&gt;world&lt;/b&gt;&lt;/p&gt;</description><itunes:episode>7</itunes:episode><itunes:season>2</itunes:season>' +
          '<podcast:transcript url="https://example.com/1.srt" type="application/x-subrip" language="en"/>' +
          '<podcast:transcript url="https://example.com/1.vtt" type="text/vtt" rel="captions"/>',
      },
    ]);
    const feed = await parseFeedXml(xml);
    expect(feed.title).toBe('Test Show');
    expect(feed.items).toEqual([
      {
        guid: 'g-1',
        title: 'First episode',
        published: '2026-11-02T08:00:00.000Z',
        durationSeconds: 3723,
        description: 'Hello world',
        episodeNumber: 7,
        seasonNumber: 2,
        enclosure: { url: 'https://cdn.example.com/1.mp3?x=1', type: 'audio/mpeg', length: 1234 },
        transcripts: [
          { url: 'https://example.com/1.srt', type: 'application/x-subrip', language: 'en', rel: undefined },
          { url: 'https://example.com/1.vtt', type: 'text/vtt', language: undefined, rel: 'captions' },
        ],
      },
    ]);
  });

  it('reads itunes fields even when the namespace is not declared on <rss>', async () => {
    const xml = '<rss version="2.0"><channel><title>t</title><item><title>a</title><itunes:duration>90</itunes:duration></item></channel></rss>';
    const feed = await parseFeedXml(xml);
    expect(feed.items[0].durationSeconds).toBe(90);
  });

  it('rejects malformed XML with a clear message', async () => {
    const xml = rssXml([{ title: 'a', guid: '1' }]).replace('</channel>', '');
    await expect(parseFeedXml(xml)).rejects.toThrow(FeedParseError);
    await expect(parseFeedXml(xml)).rejects.toThrow(/not well-formed XML/);
  });

  it('rejects an HTML error page', async () => {
    await expect(parseFeedXml('<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>')).rejects.toThrow(/HTML page, not a feed/);
  });

  it('rejects XML that is not a feed, and text', async () => {
    await expect(parseFeedXml('<?xml version="1.0"?><note><to>x</to></note>')).rejects.toThrow(/not an RSS or Atom feed/);
    await expect(parseFeedXml('Service Unavailable')).rejects.toThrow(/is not XML/);
  });

  it('keeps items without guid or enclosure (identity is decided later)', async () => {
    const feed = await parseFeedXml(rssXml([{ title: 'no guid', url: 'https://x/a.mp3' }, { title: 'no audio', guid: 'g' }]));
    expect(feed.items.map((i) => [i.guid, i.enclosure?.url])).toEqual([
      [undefined, 'https://x/a.mp3'],
      ['g', undefined],
    ]);
  });
});

describe('decodeFeed', () => {
  it('honours the XML declaration encoding and a BOM', () => {
    const latin1 = Buffer.from('<?xml version="1.0" encoding="ISO-8859-1"?><rss>caf\xe9</rss>', 'latin1');
    expect(decodeFeed(latin1)).toContain('café');
    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('<rss>é</rss>')]);
    expect(decodeFeed(bom)).toBe('<rss>é</rss>');
  });
});
