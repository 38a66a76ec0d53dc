/**
 * Deterministic synthetic transcripts: a Zipf-distributed pseudo-word vocabulary, sentences of 5–25 words,
 * cues of 5–14 words spoken at ~2.5 words/s (about 2–5.5 s each), as Whisper SRTs look.
 */

/** mulberry32: a small seeded PRNG, so every run generates the same corpus. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SYLLABLES = ['ka', 'lo', 'mi', 'ne', 'ra', 'to', 'su', 'vi', 'de', 'po', 'an', 'el', 'or', 'us', 'ti', 'ba', 'go', 'fe', 'zu', 'ha', 'qui', 'str', 'on', 'ex', 'ly', 'ma', 'ri', 'sé', 'ün', 'ço'];

export class Corpus {
  readonly words: string[];
  private readonly cumulative: Float64Array;

  constructor(size = 20_000, seed = 42) {
    const rand = rng(seed);
    const seen = new Set<string>();
    this.words = [];
    while (this.words.length < size) {
      const n = 1 + Math.floor(rand() * 4);
      let w = '';
      for (let i = 0; i < n; i++) w += SYLLABLES[Math.floor(rand() * SYLLABLES.length)];
      if (!seen.has(w)) {
        seen.add(w);
        this.words.push(w);
      }
    }
    // Zipf (s = 1.07) over ranks, as in natural language.
    this.cumulative = new Float64Array(size);
    let sum = 0;
    for (let r = 0; r < size; r++) this.cumulative[r] = sum += 1 / Math.pow(r + 1, 1.07);
    for (let r = 0; r < size; r++) this.cumulative[r] /= sum;
  }

  word(rand: () => number): string {
    const x = rand();
    let lo = 0;
    let hi = this.cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.cumulative[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return this.words[lo];
  }
}

function stamp(ms: number): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(Math.floor(ms / 3_600_000))}:${p(Math.floor(ms / 60_000) % 60)}:${p(Math.floor(ms / 1000) % 60)},${p(ms % 1000, 3)}`;
}

/** One episode's SRT covering `seconds` of speech. */
export function episodeSrt(corpus: Corpus, seed: number, seconds: number): string {
  const rand = rng(seed);
  const out: string[] = [];
  let t = 0;
  let n = 0;
  let sentenceLeft = 5 + Math.floor(rand() * 20);
  let capital = true;
  while (t < seconds * 1000) {
    const count = 5 + Math.floor(rand() * 10);
    const words: string[] = [];
    for (let i = 0; i < count; i++) {
      let w = corpus.word(rand);
      if (capital) {
        w = w[0].toUpperCase() + w.slice(1);
        capital = false;
      }
      if (--sentenceLeft === 0) {
        w += rand() < 0.85 ? '.' : '?';
        sentenceLeft = 5 + Math.floor(rand() * 20);
        capital = true;
      } else if (rand() < 0.06) w += ',';
      words.push(w);
    }
    const dur = Math.round(count * (330 + rand() * 120));
    out.push(`${++n}\n${stamp(t)} --> ${stamp(t + dur)}\n${words.join(' ')}\n`);
    t += dur + Math.floor(rand() * 300);
  }
  return out.join('\n');
}

/** 200 queries: single words, two words (AND), two-word phrases taken from the text, prefixes (a word less its last 2 letters, at least 4). */
export function queries(corpus: Corpus, sampleText: string, count = 200, seed = 7): string[] {
  const rand = rng(seed);
  const tokens = sampleText.toLowerCase().match(/[\p{L}]+/gu) ?? [];
  const mid = () => corpus.words[50 + Math.floor(rand() * 3000)];
  const out: string[] = [];
  for (let i = 0; out.length < count; i++) {
    switch (i % 4) {
      case 0:
        out.push(mid());
        break;
      case 1:
        out.push(`${mid()} ${mid()}`);
        break;
      case 2: {
        const at = Math.floor(rand() * (tokens.length - 1));
        out.push(`"${tokens[at]} ${tokens[at + 1]}"`);
        break;
      }
      default: {
        const w = mid();
        out.push(`${w.slice(0, Math.max(4, w.length - 2))}*`);
      }
    }
  }
  return out;
}
