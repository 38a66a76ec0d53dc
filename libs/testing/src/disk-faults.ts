/**
 * A full, read-only or forbidden disk, for tests: no small file system can be mounted by a test, so the
 * error is injected at the write. Every write stream of the process fails with the chosen errno code, as a
 * full disk does mid-file (the temp file exists, as it would). Use in a spec:
 *
 *   jest.mock('node:fs', () => require('@podline/testing/disk-faults').fsWithFailingWrites(jest.requireActual('node:fs')));
 *   failWrites('ENOSPC'); ... failWrites(undefined);
 */
import { Writable } from 'node:stream';
import type * as fs from 'node:fs';

let failing: string | undefined;

/** From now on every new write stream fails with `code` (undefined: writes work again). */
export function failWrites(code: string | undefined): void {
  failing = code;
}

/** The real `node:fs` with `createWriteStream` failing while `failWrites` says so. */
export function fsWithFailingWrites(actual: typeof fs): typeof fs {
  return {
    ...actual,
    createWriteStream: ((file: fs.PathLike, opts?: Parameters<typeof fs.createWriteStream>[1]) => {
      const code = failing;
      if (!code) return actual.createWriteStream(file, opts);
      const real = actual.createWriteStream(file, opts);
      const stream = new Writable({
        write(_chunk, _enc, cb) {
          cb(Object.assign(new Error(`${code}: injected, write`), { code, syscall: 'write' }));
        },
      });
      stream.on('close', () => real.destroy());
      return stream;
    }) as unknown as typeof fs.createWriteStream,
  };
}
