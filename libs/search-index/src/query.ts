import { PodlineError } from '@podline/config';

/**
 * Turn what a person types into a safe FTS5 MATCH expression.
 *   word        -> "word"            (all terms must match: implicit AND)
 *   word*       -> "word"*           (prefix)
 *   "a phrase"  -> "a phrase"        (words adjacent, in order)
 *   a OR b      -> "a" OR "b"
 * Every term is quoted, so FTS5 operators and column filters typed by accident are searched as text, never run.
 */
export class QueryError extends PodlineError {}

const HAS_WORD = /[\p{L}\p{N}]/u;

function quote(text: string): string {
  return `"${text.replace(/"/g, '""')}"`;
}

export function toFtsQuery(input: string): string {
  const parts: string[] = [];
  const re = /"([^"]*)"?|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(input))) {
    if (m[1] !== undefined) {
      const phrase = m[1].trim().replace(/\s+/g, ' ');
      if (HAS_WORD.test(phrase)) parts.push(quote(phrase));
      continue;
    }
    const word = m[2];
    if (word === 'OR') {
      if (parts.length && parts[parts.length - 1] !== 'OR') parts.push('OR');
      continue;
    }
    const prefix = word.endsWith('*');
    const body = word.replace(/\*+$/, '');
    if (!HAS_WORD.test(body)) continue;
    parts.push(quote(body) + (prefix ? '*' : ''));
  }
  while (parts[parts.length - 1] === 'OR') parts.pop();
  if (!parts.length) throw new QueryError(`the query "${input}" has no words to search for`);
  return parts.join(' ');
}
