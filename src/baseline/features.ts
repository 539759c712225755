// Hashed n-gram features of a text: character n-grams of the lowercased text padded with one space at each end
// (so they run across word boundaries), and n-grams of its words and punctuation marks, each a bucket number.
import { preview, XlmtError } from '../errors/index.ts';
import { CRC_START, crcByte, crcCodePoint, crcString } from './crc32.ts';

export interface NgramRange {
  readonly min: number;
  readonly max: number;
}

export interface FeatureSettings {
  readonly charNgrams: NgramRange;
  readonly wordNgrams: NgramRange;
  /** Buckets per kind, a power of two: character n-grams land in [0, buckets), word n-grams in [buckets, 2·buckets). */
  readonly buckets: number;
}

/** The Python reference's features (examples/diagnostics/tfidf-teacher.py). */
export const DEFAULT_FEATURES: FeatureSettings = { charNgrams: { min: 2, max: 5 }, wordNgrams: { min: 1, max: 2 }, buckets: 2 ** 20 };

/** Bucket numbers stay int32 and two ranges of them fit below 2^31. */
export const MAX_BUCKETS = 2 ** 30;

// Python's `\w+|[^\w\s]` on str: a word is a run of letters, digits and underscores of any script; every other
// character that is not white space is a token of its own.
const TOKEN = /[\p{L}\p{N}_]+|[^\p{L}\p{N}_\s]/gu;

/** The tokens word n-grams are made of, from the lowercased text. */
export function wordTokens(text: string): string[] {
  return text.toLowerCase().match(TOKEN) ?? [];
}

/**
 * Throws on settings no hasher can use: BAD_MODEL naming the field when they were read from `source.file` (a
 * baseline.json), BAD_ARGUMENT naming the API when a caller passed them.
 */
export function checkFeatureSettings(s: FeatureSettings, source: { readonly file: string } | { readonly api: string }): void {
  const fail = (field: string, message: string, expected: string, received: string): XlmtError => {
    const where = 'file' in source ? { file: source.file, field: `settings.${field}` } : { api: source.api, field };
    return new XlmtError({ code: 'file' in source ? 'BAD_MODEL' : 'BAD_ARGUMENT', message, where, expected, received });
  };
  const ranges = [['charNgrams', s.charNgrams], ['wordNgrams', s.wordNgrams]] as const;
  for (const [name, r] of ranges) {
    if (!Number.isInteger(r.min) || !Number.isInteger(r.max) || r.min < 1 || r.max < r.min) {
      throw fail(name, `${name} must be integers with 1 <= min <= max`, 'MIN-MAX lengths such as {"min":2,"max":5}', preview(r));
    }
  }
  if (!Number.isInteger(Math.log2(s.buckets)) || s.buckets < 1 || s.buckets > MAX_BUCKETS) {
    throw fail('buckets', 'buckets must be a power of two up to 2^30', 'a power of two', String(s.buckets));
  }
}

/** Hashes texts into bucket numbers, reusing its buffers from one text to the next. */
export class FeatureHasher {
  private ids = new Int32Array(4096);
  private points = new Int32Array(1024);
  private readonly mask: number;

  constructor(readonly settings: FeatureSettings) {
    checkFeatureSettings(settings, { api: 'FeatureHasher' });
    this.mask = settings.buckets - 1;
  }

  /** The bucket of every n-gram of `text`, repeats included; a view into a buffer the next call overwrites. */
  hash(text: string): Int32Array {
    const { charNgrams: chars, wordNgrams: words, buckets } = this.settings;
    const lower = text.toLowerCase();
    const length = this.codePoints(lower);
    const tokens = lower.match(TOKEN) ?? [];
    this.reserve(length * (chars.max - chars.min + 1) + tokens.length * (words.max - words.min + 1));
    const { ids, points, mask } = this;
    let count = 0;
    for (let i = 0; i < length; i++) {
      let state = CRC_START;
      const end = Math.min(length, i + chars.max);
      for (let j = i; j < end; j++) {
        state = crcCodePoint(state, points[j]!);
        if (j - i + 1 >= chars.min) ids[count++] = ~state & mask;
      }
    }
    for (let i = 0; i < tokens.length; i++) {
      let state = crcString(CRC_START, tokens[i]!);
      for (let n = 1; ; n++) {
        if (n >= words.min) ids[count++] = buckets + (~state & mask);
        if (n === words.max || i + n >= tokens.length) break;
        state = crcString(crcByte(state, 0x20), tokens[i + n]!);
      }
    }
    return ids.subarray(0, count);
  }

  /** Code points of ` text ` into `points`; returns how many. */
  private codePoints(text: string): number {
    if (this.points.length < text.length + 2) this.points = new Int32Array(2 * (text.length + 2));
    const points = this.points;
    let n = 0;
    points[n++] = 0x20;
    for (let i = 0; i < text.length; i++) {
      const cp = text.codePointAt(i)!;
      if (cp > 0xffff) i++;
      points[n++] = cp;
    }
    points[n++] = 0x20;
    return n;
  }

  private reserve(size: number): void {
    if (this.ids.length < size) this.ids = new Int32Array(2 * size);
  }
}
