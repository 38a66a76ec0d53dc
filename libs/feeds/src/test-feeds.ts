/** Builders for test feeds (used by the specs; not exported from the lib). */
export interface TestItem {
  title?: string;
  guid?: string;
  /** RFC 822 or ISO date. */
  date?: string;
  url?: string;
  length?: number;
  type?: string;
  duration?: string;
  extra?: string;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function rssXml(items: TestItem[], title = 'Test Show'): string {
  const body = items
    .map((i) =>
      [
        '<item>',
        i.title !== undefined ? `<title>${esc(i.title)}</title>` : '',
        i.guid !== undefined ? `<guid isPermaLink="false">${esc(i.guid)}</guid>` : '',
        i.date ? `<pubDate>${new Date(i.date).toUTCString()}</pubDate>` : '',
        i.url ? `<enclosure url="${esc(i.url)}" type="${i.type ?? 'audio/mpeg'}"${i.length ? ` length="${i.length}"` : ''}/>` : '',
        i.duration ? `<itunes:duration>${i.duration}</itunes:duration>` : '',
        i.extra ?? '',
        '</item>',
      ].join(''),
    )
    .join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" xmlns:podcast="https://podcastindex.org/namespace/1.0">
<channel><title>${esc(title)}</title><link>https://example.com</link><description>test</description>
${body}
</channel></rss>
`;
}
