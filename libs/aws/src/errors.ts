/** A failure for one site, with what to do about it. Messages never contain credentials. */
export class AwsSiteError extends Error {
  constructor(
    readonly site: string,
    message: string,
    readonly fix: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'AwsSiteError';
  }
}

/** Error name/code and message of an SDK error, without anything else it carries. */
export function describeSdkError(err: unknown): { code: string; message: string } {
  const e = err as { name?: string; Code?: string; code?: string; message?: string };
  return { code: e?.Code ?? e?.name ?? e?.code ?? 'Error', message: e?.message ?? String(err) };
}
