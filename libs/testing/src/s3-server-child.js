'use strict';
/**
 * Child process running the S3-compatible test server (@20minutes/s3rver) on 127.0.0.1.
 * Run with `node --openssl-legacy-provider` (its listing continuation tokens use DES).
 * argv[2]: the folder holding the buckets. Reports `{ port }` to the parent over IPC, adds key pairs on
 * `{ addKey }`, stops on 'stop'.
 */
const S3rver = require('@20minutes/s3rver');

async function main() {
  const directory = process.argv[2];
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    allowMismatchedSignatures: true,
    vhostBuckets: false,
  });
  const address = await server.run();
  process.send({ port: address.port });
  process.on('message', async (msg) => {
    if (msg && msg.addKey) {
      // More access key pairs for the server's one account (e.g. an assumed role's temporary keys).
      const { DUMMY_ACCOUNT } = require('@20minutes/s3rver/lib/models/account');
      DUMMY_ACCOUNT.createKeyPair(msg.addKey.accessKeyId, msg.addKey.secretAccessKey);
      process.send({ keyAdded: msg.addKey.accessKeyId });
      return;
    }
    if (msg === 'stop') {
      await server.close().catch(() => undefined);
      process.exit(0);
    }
  });
  // The parent went away: do not linger.
  process.on('disconnect', () => process.exit(0));
}

main().catch((err) => {
  process.stderr.write(`s3 test server failed: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
