import { promises as fsp } from 'node:fs';
import { PodlineError, sha256 } from '@podline/config';

/** One correction: whole-word (or whole-phrase) spellings that become `right`. */
export interface Correction {
  wrong: string[];
  right: string;
}

export interface Corrections {
  /** The file's path (for messages) and sha256 of its bytes ('' when there is no file). */
  file?: string;
  sha256: string;
  rules: Correction[];
}

export const NO_CORRECTIONS: Corrections = { sha256: '', rules: [] };

/** A corrections file that cannot be used; the message names the file and line. */
export class CorrectionsError extends PodlineError {}

/**
 * Parse a corrections file: one rule a line, `wrong => right` or `wrong one, wrong two => right`;
 * `#` starts a comment; blank lines are ignored. Matching is case-insensitive on whole words.
 */
export function parseCorrections(text: string, file = 'corrections file'): Corrections {
  const rules: Correction[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (!line) return;
    const m = /^(.*?)\s*=>\s*(.*)$/.exec(line);
    const wrong = m ? m[1].split(',').map((w) => w.trim()).filter(Boolean) : [];
    if (!m || !wrong.length || !m[2].trim()) {
      throw new CorrectionsError(`${file}, line ${i + 1}: "${raw.trim()}" is not a correction: write "wrong spelling => right spelling" (several wrong ones separated by commas)`);
    }
    rules.push({ wrong, right: m[2].trim() });
  });
  return { file, sha256: sha256(text), rules };
}

/** Load a corrections file; a missing file means no corrections. */
export async function loadCorrections(file: string | undefined): Promise<Corrections> {
  if (!file) return NO_CORRECTIONS;
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return NO_CORRECTIONS;
    throw new CorrectionsError(`${file} cannot be read: ${(err as Error).message}`);
  }
  return parseCorrections(text, file);
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The right spelling in the case of the match: as written, capitalised where the match starts a capitalised word, upper case for an all-caps match. */
function inCaseOf(match: string, right: string): string {
  if (match.length > 1 && match === match.toUpperCase() && match !== match.toLowerCase()) return right.toUpperCase();
  const first = match[0];
  if (first && first === first.toUpperCase() && first !== first.toLowerCase()) return right[0].toUpperCase() + right.slice(1);
  return right;
}

/** Apply the corrections to plain text. */
export function correctText(text: string, corrections: Corrections): string {
  let out = text;
  for (const rule of corrections.rules) {
    const alternatives = rule.wrong.map((w) => w.split(/\s+/).map(escape).join('\\s+')).sort((a, b) => b.length - a.length);
    const re = new RegExp(`(?<![\\p{L}\\p{N}_])(?:${alternatives.join('|')})(?![\\p{L}\\p{N}_])`, 'giu');
    out = out.replace(re, (m) => inCaseOf(m, rule.right));
  }
  return out;
}

/** Apply the corrections to the text lines of an SRT (cue numbers and timing lines untouched). */
export function correctSrt(srt: string, corrections: Corrections): string {
  if (!corrections.rules.length) return srt;
  return srt
    .split('\n')
    .map((line) => (/^\s*\d+\s*$/.test(line) || /-->/.test(line) ? line : correctText(line, corrections)))
    .join('\n');
}
