/**
 * Child process of the rss benchmark: downloads one URL with @podline/feeds' downloadAudio and reports
 * size, sha256, wall time and its own peak resident memory as one JSON line. `--idle` only loads the modules
 * (the floor of a Node process with the lib loaded).
 */
import { downloadAudio } from '@podline/feeds';

async function main() {
  const [url, dest] = process.argv.slice(2);
  const started = process.hrtime.bigint();
  const got = url === '--idle' ? { size: 0, sha256: '' } : await downloadAudio(url, dest, { timeoutMs: 30_000, retry: { retries: 0, baseMs: 1, maxMs: 1 }, policy: { allowPrivateAddresses: true } });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  // maxRSS is in kilobytes: the peak resident set of this process over its life.
  process.stdout.write(JSON.stringify({ ...got, ms, peakRssKb: process.resourceUsage().maxRSS }) + '\n');
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(1);
});
