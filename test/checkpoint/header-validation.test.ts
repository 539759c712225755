// Every way a safetensors header can be wrong, each crafted byte by byte, with the exact error it must raise.
import { describe, expect, it } from 'vitest';
import { CheckpointError, type CheckpointErrorCode, parseSafetensors, readSafetensors } from '../../src/checkpoint/index.ts';
import { craft, tempDir, writeBytes } from './helpers.ts';

const entry = (dtype: string, shape: unknown[], begin: number, end: number): string =>
  `{"dtype":${JSON.stringify(dtype)},"shape":${JSON.stringify(shape)},"data_offsets":[${begin},${end}]}`;
const zeros = (n: number): number[] => new Array<number>(n).fill(0);

function failure(bytes: Uint8Array): { code: CheckpointErrorCode; message: string } {
  try {
    parseSafetensors(bytes, 'bad.safetensors');
  } catch (e) {
    if (e instanceof CheckpointError) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error('the file was accepted');
}

const SUPPORTED = 'BOOL, U8, I8, I16, U16, F16, BF16, I32, U32, F32, F64, I64, U64';

interface Case {
  readonly what: string;
  readonly bytes: Uint8Array;
  readonly code: CheckpointErrorCode;
  readonly message: string;
}

const CASES: readonly Case[] = [
  {
    what: 'a file shorter than the length prefix',
    bytes: Uint8Array.from([2, 0, 0]),
    code: 'BAD_HEADER',
    message: 'file too short for the 8-byte header length (expected at least 8 bytes; received 3 bytes)',
  },
  {
    what: 'a header length past the end of the file',
    bytes: craft('{}', [], 100),
    code: 'BAD_HEADER',
    message: 'header length runs past the end of the file (expected at most 2 bytes; received 100 bytes). The file is truncated or not safetensors',
  },
  {
    what: 'a header length over 100 MB',
    bytes: craft('{}', [], 100_000_001),
    code: 'BAD_HEADER',
    message: 'header length over the limit (expected at most 100000000 bytes; received 100000001 bytes). The file is probably not safetensors or is corrupt',
  },
  {
    what: 'a header length beyond 2^53',
    bytes: craft('{}', [], 2n ** 64n - 1n),
    code: 'BAD_HEADER',
    message:
      'header length over the limit (expected at most 100000000 bytes; received 18446744073709551615 bytes). The file is probably not safetensors or is corrupt',
  },
  {
    what: 'a header that is not UTF-8',
    bytes: Uint8Array.from([3, 0, 0, 0, 0, 0, 0, 0, 0x7b, 0xff, 0x7d]),
    code: 'BAD_HEADER',
    message: 'header is not valid UTF-8',
  },
  {
    what: 'a header that is a JSON array',
    bytes: craft('[1]'),
    code: 'BAD_HEADER',
    message: 'header is not a JSON object (expected text starting with "{"; received "[1]")',
  },
  {
    what: 'truncated JSON',
    bytes: craft('{"a":'),
    code: 'BAD_HEADER',
    message: 'header is not valid JSON: Unexpected end of JSON input',
  },
  {
    what: 'an unknown dtype',
    bytes: craft(`{"w":${entry('F8_E4M3', [1], 0, 1)}}`, [0]),
    code: 'UNSUPPORTED',
    message: `tensor "w": unknown or unsupported dtype (expected one of ${SUPPORTED}; received "F8_E4M3")`,
  },
  {
    what: 'offsets past the end of the buffer',
    bytes: craft(`{"w":${entry('F32', [1], 0, 4)}}`, [0, 0]),
    code: 'BAD_TENSOR',
    message: 'tensor "w": data_offsets out of range of the byte buffer (expected end <= 2; received [0, 4])',
  },
  {
    what: 'offsets that end before they begin',
    bytes: craft(`{"w":${entry('F32', [0], 4, 0)}}`, zeros(4)),
    code: 'BAD_TENSOR',
    message: 'tensor "w": data_offsets end before they begin (received [4, 0])',
  },
  {
    what: 'overlapping tensors',
    bytes: craft(`{"a":${entry('F32', [2], 0, 8)},"b":${entry('F32', [1], 4, 8)}}`, zeros(8)),
    code: 'BAD_TENSOR',
    message: 'tensor "b": data_offsets overlap tensor "a" (expected begin >= 8; received [4, 8])',
  },
  {
    what: 'a hole between tensors',
    bytes: craft(`{"b":${entry('F32', [1], 8, 12)},"a":${entry('F32', [1], 0, 4)}}`, zeros(12)),
    code: 'BAD_TENSOR',
    message: 'tensor "b": bytes 4..8 of the buffer belong to no tensor (offsets must be contiguous) (expected begin = 4; received [8, 12])',
  },
  {
    what: 'a hole before the first tensor',
    bytes: craft(`{"a":${entry('U8', [1], 1, 2)}}`, zeros(2)),
    code: 'BAD_TENSOR',
    message: 'tensor "a": bytes 0..1 of the buffer belong to no tensor (offsets must be contiguous) (expected begin = 0; received [1, 2])',
  },
  {
    what: 'bytes after the last tensor',
    bytes: craft(`{"a":${entry('F32', [1], 0, 4)}}`, zeros(6)),
    code: 'BAD_HEADER',
    message:
      'bytes 4..6 of the buffer belong to no tensor (the tensors must cover the whole buffer) (expected tensors ending at byte 6; received tensors ending at byte 4)',
  },
  {
    what: 'a byte length that does not match shape × dtype',
    bytes: craft(`{"w":${entry('F32', [2], 0, 4)}}`, zeros(4)),
    code: 'BAD_TENSOR',
    message: 'tensor "w": byte length does not match shape [2] × F32 (4 bytes) (expected 8 bytes; received 4 bytes, data_offsets [0, 4])',
  },
  {
    what: 'a negative dimension',
    bytes: craft(`{"w":${entry('F32', [-1], 0, 4)}}`, zeros(4)),
    code: 'BAD_TENSOR',
    message: 'tensor "w": shape[0]: value too small (expected >= 0; received -1)',
  },
  {
    what: 'a fractional dimension',
    bytes: craft(`{"w":${entry('F32', [1.5], 0, 4)}}`, zeros(4)),
    code: 'BAD_TENSOR',
    message: 'tensor "w": shape[0]: wrong type (expected int; received 1.5)',
  },
  {
    what: 'a dimension written as a string',
    bytes: craft(`{"w":${entry('F32', ['2'], 0, 8)}}`, zeros(8)),
    code: 'BAD_TENSOR',
    message: 'tensor "w": shape[0]: wrong type (expected number; received "2")',
  },
  {
    what: 'a shape whose byte size overflows',
    bytes: craft(`{"w":${entry('F32', [2 ** 30, 2 ** 30, 2 ** 30], 0, 4)}}`, zeros(4)),
    code: 'BAD_TENSOR',
    message: 'tensor "w": shape is too large (received [1073741824, 1073741824, 1073741824])',
  },
  {
    what: 'missing data_offsets',
    bytes: craft('{"w":{"dtype":"F32","shape":[1]}}', zeros(4)),
    code: 'BAD_TENSOR',
    message: 'tensor "w": data_offsets: wrong type (expected tuple; received nothing)',
  },
  {
    what: 'an unknown key in a tensor entry',
    bytes: craft('{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"offset":0}}', zeros(4)),
    code: 'BAD_TENSOR',
    message: 'tensor "w": unknown key "offset" (expected only dtype, shape and data_offsets)',
  },
  {
    what: 'a tensor entry that is not an object',
    bytes: craft('{"w":3}'),
    code: 'BAD_TENSOR',
    message: 'tensor "w": wrong type (expected object; received 3)',
  },
  {
    what: 'a tensor named twice',
    bytes: craft(`{"w":${entry('F32', [1], 0, 4)},"w":${entry('F32', [1], 0, 4)}}`, zeros(4)),
    code: 'BAD_HEADER',
    message: 'tensor "w": named more than once in the header',
  },
  {
    what: 'a non-string metadata value',
    bytes: craft('{"__metadata__":{"format":1}}'),
    code: 'BAD_HEADER',
    message: '__metadata__.format: wrong type (expected string; received 1)',
  },
];

describe('safetensors header validation', () => {
  it.each(CASES)('refuses $what', ({ bytes, code, message }) => {
    expect(failure(bytes)).toEqual({ code, message: `bad.safetensors: ${message}` });
  });

  it('accepts the same files once repaired', () => {
    const file = parseSafetensors(craft(`{"b":${entry('F32', [1], 4, 8)},"a":${entry('F32', [1], 0, 4)}}  `, zeros(8)), 'ok');
    expect([...file.tensors.keys()]).toEqual(['a', 'b']);
  });

  it('finds repeated names only at the top level, past escapes and nesting', () => {
    const header = `{"__metadata__":{"w":"{\\"w\\":1}"},"w":${entry('U8', [1], 0, 1)},"w\\"":${entry('U8', [1], 1, 2)}}`;
    const file = parseSafetensors(craft(header, [1, 2]), 'ok');
    expect(file.metadata).toEqual({ w: '{"w":1}' });
    expect([...file.tensors.keys()]).toEqual(['w', 'w"']);
  });

  it('shows a 100,000-deep array in a header without overflowing the stack', () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    expect(failure(craft(`{"w":{"dtype":"F32","shape":${deep},"data_offsets":[0,0]}}`))).toEqual({
      code: 'BAD_TENSOR',
      message: 'bad.safetensors: tensor "w": shape[0]: wrong type (expected number; received an array of 1)',
    });
    expect(failure(craft(`{"__metadata__":{"a":${deep}}}`)).message).toBe('bad.safetensors: __metadata__.a: wrong type (expected string; received an array of 1)');
    expect(failure(craft(`{"w":${deep}}`)).message).toBe('bad.safetensors: tensor "w": wrong type (expected object; received an array of 1)');
  });

  it('names the file on disk and refuses before reading the buffer', async () => {
    const dir = await tempDir();
    const path = await writeBytes(dir, 'bad.safetensors', craft(`{"w":${entry('BF16', [3], 0, 4)}}`, zeros(4)));
    await expect(readSafetensors(path)).rejects.toThrow(
      `${path}: tensor "w": byte length does not match shape [3] × BF16 (2 bytes) (expected 6 bytes; received 4 bytes, data_offsets [0, 4])`,
    );
  });
});
