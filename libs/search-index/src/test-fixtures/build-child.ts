/**
 * Child process of the kill-during-build spec: one buildSiteIndex of the site in argv[2] (workspace root) and
 * argv[3] (site id), so the spec can SIGKILL it at a chosen moment.
 */
import { SitePaths } from '@podline/config';
import { buildSiteIndex } from '../build';

const [root, siteId] = process.argv.slice(2);
buildSiteIndex({ siteId, paths: new SitePaths(siteId, root, {}) }).then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
