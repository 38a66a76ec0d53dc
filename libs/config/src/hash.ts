import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** The hex sha256 of some bytes or text (UTF-8): the content identity Podline records everywhere. */
export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The hex sha256 of a file, streamed (bounded memory for hour-long audio). */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
