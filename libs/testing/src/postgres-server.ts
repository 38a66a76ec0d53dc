import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';

export interface PostgresTestServer {
  /** postgres://postgres:<password>@127.0.0.1:<port>/podline — a secret like any real one. */
  url: string;
  host: string;
  port: number;
  password: string;
  /** Stop the server and remove its data folder (safe to call twice). */
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (asked of the kernel, then released). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Start a real PostgreSQL on 127.0.0.1 (a free port, a temp data folder, a random password) in a child
 * process, with an empty database "podline". The child stops the server and removes the folder when
 * stop() is called, and also when this process goes away (a failing or killed test leaves nothing behind).
 * Takes about two seconds.
 */
export async function startPostgres(options: { timeoutMs?: number } = {}): Promise<PostgresTestServer> {
  const folder = mkdtempSync(path.join(os.tmpdir(), 'podline-pg-'));
  const port = await freePort();
  const password = randomBytes(12).toString('hex');
  const child = fork(path.join(__dirname, 'postgres-server-child.mjs'), [folder, String(port), password], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('PostgreSQL did not start within the time allowed')), options.timeoutMs ?? 60_000);
      child.once('message', (msg: { ready?: boolean; error?: string }) => {
        clearTimeout(timer);
        if (msg.ready) resolve();
        else reject(new Error(`PostgreSQL did not start: ${msg.error}`));
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the PostgreSQL test server exited early (code ${code})`));
      });
    });
  } catch (err) {
    child.kill('SIGTERM');
    rmSync(folder, { recursive: true, force: true });
    throw err;
  }
  let stopped: Promise<void> | undefined;
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/podline`,
    host: '127.0.0.1',
    port,
    password,
    stop() {
      stopped ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
          child.send('stop');
          await exited;
        }
        rmSync(folder, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}
