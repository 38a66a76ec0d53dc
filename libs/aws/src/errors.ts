import { PodlineError } from '@podline/config';

/** A failure for one site, with what to do about it. Messages never contain credentials. */
export class AwsSiteError extends PodlineError {
  declare readonly site: string;
  declare readonly fix: string;
  constructor(
    site: string,
    message: string,
    fix: string,
    readonly code?: string,
  ) {
    super(message, { site, fix });
  }
}

/** Error name/code and message of an SDK error, without anything else it carries. */
export function describeSdkError(err: unknown): { code: string; message: string } {
  const e = err as { name?: string; Code?: string; code?: string; message?: string };
  return { code: e?.Code ?? e?.name ?? e?.code ?? 'Error', message: e?.message ?? String(err) };
}
