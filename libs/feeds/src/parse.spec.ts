import { decodeFeed, FeedParseError, parseDuration, parseFeedXml } from './parse';
import { rssXml, type TestItem } from './test-feeds';

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

describe('parseFeedXml on real-world feeds', () => {
  const atom = `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Atom Show</title>
  <entry>
    <id>urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a</id>
    <title>Folge 1</title>
    <updated>2026-11-02T08:00:00Z</updated>
    <summary type="html">&lt;p&gt;Show &amp;amp; tell&lt;/p&gt;</summary>
    <link rel="alternate" href="https://example.com/1"/>
    <link rel="enclosure" type="audio/mpeg" length="1234" href="https://cdn.example.com/1.mp3"/>
  </entry>
  <entry>
    <id>tag:example.com,2026:2</id>
    <title>Folge 2</title>
    <updated>Montag, 9. November 2026</updated>
    <link rel="enclosure" type="audio/mpeg" href="https://cdn.example.com/2.mp3"/>
  </entry>
</feed>`;

  it('Atom: enclosure links are the audio, <id> is the identity, a German <updated> makes that entry undated with a warning', async () => {
    const feed = await parseFeedXml(atom);
    expect(feed.title).toBe('Atom Show');
    expect(feed.items.map((i) => [i.guid, i.title, i.published, i.enclosure])).toEqual([
      ['urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a', 'Folge 1', '2026-11-02T08:00:00.000Z', { url: 'https://cdn.example.com/1.mp3', type: 'audio/mpeg', length: 1234 }],
      ['tag:example.com,2026:2', 'Folge 2', undefined, { url: 'https://cdn.example.com/2.mp3', type: 'audio/mpeg', length: undefined }],
    ]);
    expect(feed.items[0].description).toBe('Show & tell');
    expect(feed.warnings).toEqual([expect.stringMatching(/^line 15: "Folge 2" has an unreadable date "Montag, 9\. November 2026"; recorded as undated$/)]);
  });

  it('<rss> without a version attribute is read as RSS 2.0', async () => {
    const feed = await parseFeedXml('<rss><channel><title>No version</title><item><guid>a</guid><enclosure url="https://x/a.mp3" type="audio/mpeg"/></item></channel></rss>');
    expect(feed.title).toBe('No version');
    expect(feed.items.map((i) => i.enclosure?.url)).toEqual(['https://x/a.mp3']);
  });

  it('video: audio enclosure or audio alternateEnclosure wins; a video-only item says so', async () => {
    const feed = await parseFeedXml(
      rssXml([
        { title: 'video only', guid: 'v', url: 'https://x/v.mp4', type: 'video/mp4' },
        { title: 'quicktime', guid: 'q', url: 'https://x/q.mov', type: 'video/quicktime' },
        {
          title: 'video with audio alternate',
          guid: 'va',
          url: 'https://x/va.mp4',
          type: 'video/mp4',
          extra: '<podcast:alternateEnclosure type="audio/mpeg" length="500"><podcast:source uri="https://x/va.mp3"/></podcast:alternateEnclosure>',
        },
      ]),
    );
    expect(feed.items.map((i) => i.enclosure)).toEqual([
      { url: 'https://x/v.mp4', type: 'video/mp4', length: undefined, video: true },
      { url: 'https://x/q.mov', type: 'video/quicktime', length: undefined, video: true },
      { url: 'https://x/va.mp3', type: 'audio/mpeg', length: 500 },
    ]);
  });

  it('one broken entity far into the file: read leniently, with a warning naming the editor line', async () => {
    const items: TestItem[] = Array.from({ length: 300 }, (_, i) => ({ title: `Episode ${i}`, guid: `g${i}`, url: `https://x/${i}.mp3` }));
    items[250].title = 'PLACEHOLDER';
    const xml = rssXml(items).replace('PLACEHOLDER', 'Q&amp;A &gtgt; more & less');
    const line = xml.split('\n').findIndex((l) => l.includes('&gtgt;')) + 1;
    expect(line).toBeGreaterThan(250);
    const feed = await parseFeedXml(xml);
    expect(feed.items).toHaveLength(300);
    expect(feed.items[250].title).toBe('Q&A &gtgt; more & less');
    expect(feed.warnings).toEqual([`line ${line}: Invalid character entity; read leniently after repairing 2 broken entities or bare ampersands (tell the publisher: the feed is not well-formed XML)`]);
  });

  it('XML that even the repair cannot read fails with the editor line', async () => {
    const xml = '<rss version="2.0">\n<channel>\n<title>t</title>\n<item><title>a &bogus; b</title></itme>\n</channel></rss>';
    await expect(parseFeedXml(xml)).rejects.toThrow(/not well-formed XML \(Unexpected close tag at line 4, column \d+\), even after repairing entities/);
  });

  it('does not expand entities declared in the document (billion laughs stays small)', async () => {
    const xml = '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><rss version="2.0"><channel><title>&b;</title></channel></rss>';
    const feed = await parseFeedXml(xml);
    expect(feed.title).toBe('&b;');
  });

  it('itunes:new-feed-url is reported', async () => {
    const xml = rssXml([]).replace('<link>', '<itunes:new-feed-url>https://new.example.com/feed.xml</itunes:new-feed-url><link>');
    expect((await parseFeedXml(xml)).newFeedUrl).toBe('https://new.example.com/feed.xml');
  });

  it('strips control characters and terminal escapes from every text', async () => {
    const xml = rssXml([{ title: 'Evil \u001b[31mred\u001b[0m\u0007 title', guid: 'g\u0000\u001b]0;pwned\u0007x', url: 'https://x/a.mp3', extra: '<description>Line\u001b[2J one</description>' }]);
    const feed = await parseFeedXml(xml.replace(/\u0000/g, '&#0;'));
    expect(feed.items[0]).toMatchObject({ title: 'Evil red title', description: 'Line one' });
    expect(feed.items[0].guid).toBe('g&#0;x');
    expect(JSON.stringify(feed)).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
  });
});
