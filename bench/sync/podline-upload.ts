/**
 * One Podline `upload` of a site, as its own process (so its time includes start-up, like the other
 * tools'). run.ts bundles it (and the libs) into one JavaScript file first. argv[2]: JSON { workspaceRoot, dataDir, siteId, bucket, endpoint, concurrency, multipartThresholdMB? }.
 * Prints the outcome's counts and the engine's own time (start-up excluded) as JSON on stdout.
 */
import { SitePaths, type SiteConfig } from '@podline/config';
import { uploadSite } from '@podline/storage';

const args = JSON.parse(process.argv[2]) as {
  workspaceRoot: string;
  dataDir: string;
  siteId: string;
  bucket: string;
  endpoint: string;
  concurrency: number;
  multipartThresholdMB?: number;
};
const env = { PODLINE_DATA_DIR: args.dataDir };
const site: SiteConfig = {
  id: args.siteId,
  title: args.siteId,
  siteDir: args.workspaceRoot,
  configFile: args.workspaceRoot,
  podcasts: [],
  storage: { kind: 's3', bucket: args.bucket, region: 'us-east-1', endpoint: args.endpoint, forcePathStyle: true },
  transcription: { engine: 'whisper', model: 'base.en', language: 'en', usePublisherTranscripts: true },
  index: { kind: 'local' },
};
const started = process.hrtime.bigint();
const quiet = { info: () => undefined, warn: (m: string) => process.stderr.write(`${m}\n`), debug: () => undefined, progress: () => undefined };
uploadSite(
  {
    site,
    paths: new SitePaths(args.siteId, args.workspaceRoot, env),
    workspaceRoot: args.workspaceRoot,
    log: quiet,
    env,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  },
  { concurrency: args.concurrency, ...(args.multipartThresholdMB && { multipartThresholdMB: args.multipartThresholdMB }) },
).then((out) => {
  const engineMs = Number(process.hrtime.bigint() - started) / 1e6;
  process.stdout.write(JSON.stringify({ counts: out.counts, problems: out.problems, engineMs }) + '\n');
  process.exit(out.problems.length ? 1 : 0);
});
