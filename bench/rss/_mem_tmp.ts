import { parseFeedXml } from '../../libs/feeds/src/parse';
const which = process.argv[2];
const n = Number(process.argv[3] ?? 60000);
const item = (i: number) => `<item><title>Episode ${i} &amp; more</title><guid>g-${i}</guid><pubDate>Mon, 02 Nov 2026 08:00:00 GMT</pubDate><enclosure url="https://cdn.example.com/show/${i}.mp3" type="audio/mpeg" length="1234"/><description><![CDATA[<p>${'Show notes with some words. '.repeat(30)}</p>]]></description></item>\n`;
const xml = `<?xml version="1.0"?><rss version="2.0"><channel><title>Big</title>${Array.from({ length: n }, (_, i) => item(i)).join('')}</channel></rss>`;
const base = process.memoryUsage().rss;
(async () => {
  const t = Date.now();
  if (which === 'old') {
    const Parser = require('rss-parser');
    const f = await new Parser().parseString(xml);
    console.log('items', f.items.length);
  } else {
    const f = await parseFeedXml(xml);
    console.log('items', f.items.length);
  }
  console.log(which, 'MB', (xml.length / 1e6).toFixed(0), 'ms', Date.now() - t, 'peakRSS MB', (process.resourceUsage().maxRSS / 1024).toFixed(0), 'baseRSS', (base / 1e6).toFixed(0));
})();
