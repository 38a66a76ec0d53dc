/**
 * Child process of the rss benchmark: builds a feed of about `mb` MB in memory, parses it with @podline/feeds'
 * parseFeedXml (`ours`) or with rss-parser (`reference`, what Podline used before), and reports item count,
 * wall time of the parse and peak resident memory as one JSON line, with the RSS before parsing as the floor.
 */
import { parseFeedXml } from '../../libs/feeds/src/parse';

function bigFeed(mb: number): string {
  const item = (i: number) =>
    `<item><title>Episode ${i} &amp; friends</title><guid>g-${i}</guid><pubDate>Mon, 02 Nov 2026 08:00:00 GMT</pubDate>` +
    `<enclosure url="https://cdn.example.com/show/${i}.mp3" type="audio/mpeg" length="1234"/><itunes:duration>1:02:03</itunes:duration>` +
    `<description><![CDATA[<p>${'Show notes with links, names and words. '.repeat(20)}</p>]]></description></item>\n`;
  const per = item(0).length;
  const n = Math.max(1, Math.round((mb * 1e6) / per));
  return `<?xml version="1.0"?><rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel><title>Big</title>${Array.from({ length: n }, (_, i) => item(i)).join('')}</channel></rss>`;
}

async function main() {
  const [which, mb] = process.argv.slice(2);
  const xml = bigFeed(Number(mb));
  const floorKb = process.resourceUsage().maxRSS;
  const started = process.hrtime.bigint();
  let items: number;
  if (which === 'reference') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const Parser = require('rss-parser');
    items = (await new Parser().parseString(xml)).items.length;
  } else {
    items = (await parseFeedXml(xml)).items.length;
  }
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  process.stdout.write(JSON.stringify({ bytes: xml.length, items, ms, floorKb, peakRssKb: process.resourceUsage().maxRSS }) + '\n');
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(1);
});
