// CRC-32 as zlib computes it (reflected polynomial 0xEDB88320, start and final xor 0xFFFFFFFF), fed Unicode
// code points as their UTF-8 bytes: a feature's bucket equals Python's zlib.crc32(text.encode()) % buckets, so
// it never depends on the platform, and a string can be hashed and extended one character at a time.

const TABLE = ((): Int32Array => {
  const table = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
})();

/** The state before any byte. States are int32; `crcValue` turns one into the checksum. */
export const CRC_START = -1;

export function crcByte(state: number, byte: number): number {
  return TABLE[(state ^ byte) & 0xff]! ^ (state >>> 8);
}

/** Feeds one code point as UTF-8; a lone surrogate goes in as U+FFFD, as TextEncoder writes it. */
export function crcCodePoint(state: number, codePoint: number): number {
  let cp = codePoint;
  if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd;
  if (cp < 0x80) return crcByte(state, cp);
  if (cp < 0x800) return crcByte(crcByte(state, 0xc0 | (cp >> 6)), 0x80 | (cp & 0x3f));
  if (cp < 0x10000) return crcByte(crcByte(crcByte(state, 0xe0 | (cp >> 12)), 0x80 | ((cp >> 6) & 0x3f)), 0x80 | (cp & 0x3f));
  const head = crcByte(crcByte(state, 0xf0 | (cp >> 18)), 0x80 | ((cp >> 12) & 0x3f));
  return crcByte(crcByte(head, 0x80 | ((cp >> 6) & 0x3f)), 0x80 | (cp & 0x3f));
}

/** Feeds every code point of `text`. */
export function crcString(state: number, text: string): number {
  let s = state;
  for (let i = 0; i < text.length; i++) {
    const cp = text.codePointAt(i)!;
    if (cp > 0xffff) i++;
    s = crcCodePoint(s, cp);
  }
  return s;
}

/** The checksum of the bytes fed so far, as an unsigned 32-bit integer. */
export function crcValue(state: number): number {
  return (state ^ -1) >>> 0;
}

export function crc32(text: string): number {
  return crcValue(crcString(CRC_START, text));
}
