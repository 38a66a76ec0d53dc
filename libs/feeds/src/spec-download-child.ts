/** Child process for the kill test in download.spec.ts: downloads argv[2] to argv[3], then exits. */
import { downloadAudio } from './download';

downloadAudio(process.argv[2], process.argv[3], { timeoutMs: 60_000, retry: { retries: 0, baseMs: 1, maxMs: 1 }, policy: { allowPrivateAddresses: true } }).then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(1);
  },
);
