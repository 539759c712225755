// Hashed features: zlib's CRC-32, character n-grams across word boundaries on code points, Unicode words, and
// bucket lists equal to the Python reference's (examples/diagnostics/tfidf-teacher.py) for the same text.
import { describe, expect, it } from 'vitest';
import { crc32 } from '../../src/baseline/crc32.ts';
import { DEFAULT_FEATURES, FeatureHasher, wordTokens } from '../../src/baseline/features.ts';
import { hashedCounts } from '../../src/baseline/sparse.ts';

const BUCKETS = 2 ** 20;
const sorted = (ids: Int32Array): number[] => [...ids].sort((a, b) => a - b);
const bucket = (text: string): number => crc32(text) % BUCKETS;

describe('crc32', () => {
  it("is zlib's: the standard check value, and UTF-8 bytes of any script", () => {
    expect(crc32('123456789')).toBe(0xcbf43926);
    expect(crc32('')).toBe(0);
    // python3 -c "import zlib; print(zlib.crc32('héllo wörld 日本 😀'.encode()))"
    expect(crc32('héllo wörld 日本 😀')).toBe(4058498006);
    expect(crc32('\ud800')).toBe(crc32('\ufffd')); // a lone surrogate as TextEncoder writes it
  });
});

describe('FeatureHasher', () => {
  it('hashes character n-grams of the padded lowercased text across word boundaries, then word n-grams', () => {
    const hasher = new FeatureHasher({ charNgrams: { min: 2, max: 3 }, wordNgrams: { min: 1, max: 2 }, buckets: BUCKETS });
    const padded = ' ab c ';
    const chars = [2, 3].flatMap((n) => Array.from({ length: padded.length - n + 1 }, (_, i) => padded.slice(i, i + n)));
    expect(chars).toContain('b c'); // the boundary n-grams are there
    const words = ['ab', 'c', 'ab c'].map((w) => BUCKETS + bucket(w));
    expect(sorted(hasher.hash('AB C'))).toEqual([...chars.map(bucket), ...words].sort((a, b) => a - b));
  });

  it('counts a character outside the Basic Multilingual Plane as one', () => {
    const hasher = new FeatureHasher({ charNgrams: { min: 2, max: 2 }, wordNgrams: { min: 1, max: 1 }, buckets: BUCKETS });
    expect(sorted(hasher.hash('😀a'))).toEqual([' 😀', '😀a', 'a '].map(bucket).concat(['😀', 'a'].map((w) => BUCKETS + bucket(w))).sort((a, b) => a - b));
  });

  it("splits words as Python's \\w+|[^\\w\\s] does, in every script", () => {
    expect(wordTokens("It's   GREAT_stuff\tv2.0 — ok?")).toEqual(['it', "'", 's', 'great_stuff', 'v2', '.', '0', '—', 'ok', '?']);
    expect(wordTokens('Привет, мир! 日本語です 😀')).toEqual(['привет', ',', 'мир', '!', '日本語です', '😀']);
    // Combining marks are neither \w nor space in Python, so each is a token of its own there too.
    expect(wordTokens('नमस्ते')).toEqual(['नमस', '्', 'त', 'े']);
  });

  it("gives the Python reference's bucket lists (features() of tfidf-teacher.py)", () => {
    const hasher = new FeatureHasher(DEFAULT_FEATURES);
    expect(sorted(hasher.hash('Ab, ü!'))).toEqual([
      14429, 46323, 65761, 82901, 95293, 138066, 215149, 334935, 416153, 436689, 443744, 466371, 534484, 550803, 634027,
      654972, 685881, 845016, 888122, 899898, 914000, 961454, 1120373, 1263725, 1420668, 1665493, 1737582, 1834963, 1962576,
    ]);
    // Longer texts, by count and sum of the buckets.
    const summary = (text: string): [number, number] => {
      const ids = hasher.hash(text);
      return [ids.length, ids.reduce((a, b) => a + b, 0)];
    };
    expect(summary('Привет, мир! 日本語です 😀 नमस्ते दुनिया')).toEqual([165, 117687176]);
    expect(summary("It's   GREAT_stuff\tv2.0 — ok?")).toEqual([133, 88015223]);
  });

  it('reuses its buffer, growing it for long texts, with the same answer every time', () => {
    const hasher = new FeatureHasher(DEFAULT_FEATURES);
    const long = 'word '.repeat(3000);
    const first = sorted(hasher.hash(long));
    hasher.hash('short');
    expect(sorted(hasher.hash(long))).toEqual(first);
    // n-grams of lengths 2 to 5 of the padded text, 3,000 words and 2,999 word pairs.
    expect(first.length).toBe(4 * (long.length + 2) - (1 + 2 + 3 + 4) + 3000 + 2999);
  });

  it('refuses settings no hasher can use', () => {
    expect(() => new FeatureHasher({ ...DEFAULT_FEATURES, buckets: 1000 })).toThrow(/buckets must be a power of two/);
    expect(() => new FeatureHasher({ ...DEFAULT_FEATURES, charNgrams: { min: 3, max: 2 } })).toThrow(/charNgrams must be integers with 1 <= min <= max/);
  });
});

describe('hashedCounts', () => {
  it('keeps each bucket once per row, ascending, with sublinear tf 1 + ln(count)', () => {
    const hasher = new FeatureHasher({ charNgrams: { min: 2, max: 2 }, wordNgrams: { min: 1, max: 1 }, buckets: BUCKETS });
    const counts = hashedCounts(['aaa', 'b'], hasher);
    expect(counts.rows).toBe(2);
    expect(counts.cols).toBe(2 * BUCKETS);
    const row = (i: number): [number, number][] => Array.from({ length: counts.indptr[i + 1]! - counts.indptr[i]! }, (_, p) => [counts.indices[counts.indptr[i]! + p]!, counts.values[counts.indptr[i]! + p]!]);
    // " aaa ": " a", "aa" twice, "a "; the word "aaa".
    const expected = [[bucket(' a'), 1], [bucket('aa'), Math.fround(1 + Math.log(2))], [bucket('a '), 1], [BUCKETS + bucket('aaa'), 1]].sort((a, b) => a[0]! - b[0]!);
    expect(row(0)).toEqual(expected);
    expect(row(1).map(([c]) => c)).toEqual([bucket(' b'), bucket('b '), BUCKETS + bucket('b')].sort((a, b) => a - b));
  });
});
