/**
 * Child process of the kill-during-download spec: runs one pre-sync of the site given as JSON in argv[2],
 * so the spec can SIGKILL it mid-transfer.
 */
import { SitePaths, type SiteConfig } from '@podline/config';
import { S3_TEST_CREDENTIALS } from '@podline/testing/s3-server';
import { preSync } from './sync';

const { workspaceRoot, site } = JSON.parse(process.argv[2]) as { workspaceRoot: string; site: SiteConfig };
const paths = new SitePaths(site.id, workspaceRoot, {});
const quiet = { info: () => undefined, warn: () => undefined, debug: () => undefined, progress: () => undefined };
preSync({ site, paths, workspaceRoot, log: quiet, env: {}, credentials: S3_TEST_CREDENTIALS }).then(
  () => process.exit(0),
  () => process.exit(1),
);
