import { createHash } from 'node:crypto';
import { createWriteStream, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PodlineError, tempPathFor } from '@podline/config';
import type { OnBytes } from './types';

export interface StreamToFileOptions {
  expectedSize?: number;
  /** Checked when given (a plain-MD5 ETag). */
  expectedMd5?: string;
  /** Set on the file before it is renamed into place. */
  mtimeMs?: number;
  onBytes?: OnBytes;
  /** Names the object in verification errors. */
  label: string;
}

export class VerificationError extends PodlineError {
  readonly code = 'IncompleteBody';
}

/** A plain MD5 ETag (single-part upload), or undefined for multipart/unknown ETags. */
export function plainMd5(etag: string | undefined): string | undefined {
  const e = etag?.replace(/"/g, '').toLowerCase();
  return e && /^[0-9a-f]{32}$/.test(e) ? e : undefined;
}

/**
 * Stream `source` into a temp file beside `file`, hashing on the way; fsync, verify size (and MD5 when
 * known), set the mtime, then rename. A kill at any instant leaves only a temp file, never a short `file`.
 */
export async function streamToFileAtomic(source: Readable, file: string, options: StreamToFileOptions): Promise<{ size: number; md5: string }> {
  await fsp.mkdir(path.dirname(file), { recursive: true });
  const tmp = tempPathFor(file);
  const hash = createHash('md5');
  let size = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      size += chunk.length;
      options.onBytes?.(chunk.length);
      cb(null, chunk);
    },
  });
  try {
    const out = createWriteStream(tmp);
    await pipeline(source, meter, out);
    const md5 = hash.digest('hex');
    if (options.expectedSize !== undefined && size !== options.expectedSize) {
      throw new VerificationError(`${options.label}: got ${size} bytes, expected ${options.expectedSize} (incomplete transfer)`);
    }
    if (options.expectedMd5 && md5 !== options.expectedMd5) {
      throw new VerificationError(`${options.label}: MD5 ${md5} does not match the ETag ${options.expectedMd5} (corrupt transfer)`);
    }
    const fh = await fsp.open(tmp, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    if (options.mtimeMs !== undefined) {
      const t = new Date(options.mtimeMs);
      await fsp.utimes(tmp, t, t);
    }
    await fsp.rename(tmp, file);
    return { size, md5 };
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  }
}
