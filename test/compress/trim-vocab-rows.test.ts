// The rows trimming keeps: the checkpoint's word embedding and masked-LM decoder under every name the loader
// resolves (bert. / roberta. prefixes, RoBERTa's lm_head), in any dtype; and in an ONNX graph, every initializer
// looked up by the token ids (through a Cast or directly), per-row scales included.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { serialize } from '../../src/builder/serialize.ts';
import { GraphBuilder } from '../../src/builder/builder.ts';
import { float32Tensor, readSafetensors, writeSafetensors, type SafeTensor } from '../../src/checkpoint/index.ts';
import { readVocabCheckpoint, writeTrimmedCheckpoint } from '../../src/compress/trim-vocab/checkpoint.ts';
import { gatherRows, IdMap } from '../../src/compress/trim-vocab/id-map.ts';
import { findVocabTables, readOnnxModel, trimTables } from '../../src/compress/trim-vocab/onnx-tables.ts';
import { trimVocab } from '../../src/compress/trim-vocab/index.ts';
import { craftedExport } from './trim-vocab-fixtures.ts';

const KEEP = Uint8Array.from([1, 1, 0, 1, 0, 1]); // 6 rows → ids 0, 1, 3, 5

const temp = (): string => mkdtempSync(join(tmpdir(), 'xlmt-trim-rows-'));

/** [rows, width] float32 whose element (r, c) is 10·r + c, so a row shows where it came from. */
function table(rows: number, width: number): Float32Array {
  return Float32Array.from({ length: rows * width }, (_, i) => 10 * Math.floor(i / width) + (i % width));
}

/** float32 values as bfloat16 bytes (the high halves), to check that rows are cut in any dtype. */
function bf16(values: Float32Array, shape: readonly number[]): SafeTensor {
  const words = new Uint16Array(values.length);
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  bits.forEach((b, i) => (words[i] = b >>> 16));
  return { dtype: 'BF16', shape, bytes: new Uint8Array(words.buffer) };
}

const CONFIG = { vocab_size: 6, hidden_size: 4, num_hidden_layers: 1, num_attention_heads: 1, intermediate_size: 8, max_position_embeddings: 16, type_vocab_size: 1 };

describe('IdMap and gatherRows', () => {
  it('numbers kept ids in order and gathers their rows', () => {
    const map = new IdMap(KEEP);
    expect(Array.from(map.newToOld)).toEqual([0, 1, 3, 5]);
    expect(Array.from(map.oldToNew)).toEqual([0, 1, -1, 2, -1, 3]);
    expect(map.newId(7)).toBe(-1);
    const bytes = new Uint8Array(table(6, 2).buffer);
    expect(Array.from(new Float32Array(gatherRows(bytes, 6, map).buffer))).toEqual([0, 1, 10, 11, 30, 31, 50, 51]);
  });
});

describe('checkpoint vocabulary tensors', () => {
  const cases = [
    {
      name: 'XLM-R layout (roberta. prefix, lm_head, a bfloat16 decoder)',
      modelType: 'xlm-roberta',
      tensors: (): [string, SafeTensor][] => [
        ['roberta.embeddings.word_embeddings.weight', float32Tensor(table(6, 4), [6, 4])],
        ['roberta.embeddings.LayerNorm.weight', float32Tensor(Float32Array.of(1, 2, 3, 4), [4])],
        ['lm_head.decoder.weight', bf16(table(6, 4), [6, 4])],
        ['lm_head.decoder.bias', float32Tensor(table(6, 1), [6])],
        ['lm_head.bias', float32Tensor(table(6, 1), [6])],
      ],
      cut: ['roberta.embeddings.word_embeddings.weight', 'lm_head.decoder.weight', 'lm_head.decoder.bias', 'lm_head.bias'],
    },
    {
      name: 'BERT layout (bert. prefix, cls.predictions)',
      modelType: 'bert',
      tensors: (): [string, SafeTensor][] => [
        ['bert.embeddings.word_embeddings.weight', float32Tensor(table(6, 4), [6, 4])],
        ['bert.embeddings.LayerNorm.weight', float32Tensor(Float32Array.of(1, 2, 3, 4), [4])],
        ['cls.predictions.decoder.weight', float32Tensor(table(6, 4), [6, 4])],
        ['cls.predictions.bias', float32Tensor(table(6, 1), [6])],
      ],
      cut: ['bert.embeddings.word_embeddings.weight', 'cls.predictions.decoder.weight', 'cls.predictions.bias'],
    },
    {
      name: 'xlmt layout (no prefix)',
      modelType: 'bert',
      tensors: (): [string, SafeTensor][] => [
        ['embeddings.word_embeddings.weight', float32Tensor(table(6, 4), [6, 4])],
        ['heads.topic.weight', float32Tensor(table(6, 4), [6, 4])],
      ],
      cut: ['embeddings.word_embeddings.weight'],
    },
  ];

  for (const c of cases) {
    it(`cuts the rows of the word embedding and the masked-LM decoder: ${c.name}`, async () => {
      const dir = temp();
      writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...CONFIG, model_type: c.modelType, pad_token_id: 1 }));
      await writeSafetensors(join(dir, 'model.safetensors'), c.tensors(), { format: 'pt' });
      const checkpoint = await readVocabCheckpoint(dir);
      expect(checkpoint.rows).toBe(6);
      expect([...checkpoint.names].sort()).toEqual([...c.cut].sort());
      const out = temp();
      await writeTrimmedCheckpoint(checkpoint, new IdMap(KEEP), out);
      const written = await readSafetensors(join(out, 'model.safetensors'));
      const original = new Map(c.tensors());
      expect([...written.tensors.keys()].sort()).toEqual([...original.keys()].sort());
      for (const [key, tensor] of written.tensors) {
        const before = original.get(key) as SafeTensor;
        expect(tensor.dtype, key).toBe(before.dtype);
        if (!c.cut.includes(key)) {
          expect(tensor.shape, key).toEqual(before.shape);
          expect(Buffer.from(tensor.bytes).equals(Buffer.from(before.bytes)), key).toBe(true);
          continue;
        }
        expect(tensor.shape, key).toEqual([4, ...before.shape.slice(1)]);
        const rowBytes = before.bytes.byteLength / 6;
        const expected = Buffer.concat([0, 1, 3, 5].map((r) => before.bytes.subarray(r * rowBytes, (r + 1) * rowBytes)));
        expect(Buffer.from(tensor.bytes).equals(expected), key).toBe(true);
      }
    });
  }

  it('refuses a checkpoint without a word embedding, and a decoder whose rows differ', async () => {
    const dir = temp();
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...CONFIG, model_type: 'bert', pad_token_id: 0 }));
    await writeSafetensors(join(dir, 'model.safetensors'), [['encoder.x', float32Tensor(table(2, 2), [2, 2])]], { format: 'pt' });
    await expect(readVocabCheckpoint(dir)).rejects.toMatchObject({ code: 'KEY_MISMATCH', where: { tensor: 'embeddings.word_embeddings.weight' } });
    await writeSafetensors(join(dir, 'model.safetensors'), [
      ['embeddings.word_embeddings.weight', float32Tensor(table(6, 4), [6, 4])],
      ['cls.predictions.bias', float32Tensor(table(5, 1), [5])],
    ], { format: 'pt' });
    await expect(readVocabCheckpoint(dir)).rejects.toMatchObject({ code: 'BAD_TENSOR', where: { tensor: 'cls.predictions.bias' } });
  });
});

describe('ONNX tables looked up by input_ids', () => {
  it('cuts every table gathered by the ids (through a Cast or not), per-row scales included, and nothing else', () => {
    const dir = temp();
    craftedExport(dir, { idDependent: false });
    const path = join(dir, 'onnx', 'model.onnx');
    const bytes = readFileSync(path);
    const tables = findVocabTables(readOnnxModel(bytes, path), path);
    expect([...tables.names].sort()).toEqual(['scale', 'table']);
    expect(tables.rows).toBe(120);
    const keep = new Uint8Array(120);
    [0, 7, 8, 119].forEach((id) => (keep[id] = 1));
    const trimmed = readOnnxModel(trimTables(tables, new IdMap(keep), path), path);
    const original = readOnnxModel(bytes, path);
    const init = (m: onnxProto.onnx.ModelProto, name: string): onnxProto.onnx.ITensorProto | undefined => m.graph?.initializer?.find((t) => t.name === name);
    const values = (t: onnxProto.onnx.ITensorProto | undefined): number[] => Array.from(new Float32Array(Uint8Array.from(t?.rawData ?? []).buffer));
    expect(init(trimmed, 'table')?.dims?.map(Number)).toEqual([4, 2]);
    expect(init(trimmed, 'scale')?.dims?.map(Number)).toEqual([4]);
    const table = values(init(original, 'table'));
    expect(values(init(trimmed, 'table'))).toEqual([0, 7, 8, 119].flatMap((r) => table.slice(2 * r, 2 * r + 2)));
    const scale = values(init(original, 'scale'));
    expect(values(init(trimmed, 'scale'))).toEqual([0, 7, 8, 119].map((r) => scale[r]));
    expect(trimmed.graph?.node?.length).toBe(original.graph?.node?.length);
  });

  it('refuses a table that another node also reads', () => {
    const g = new GraphBuilder('shared-table');
    const ids = g.input('input_ids', 'int64', ['batch', 'seq']);
    const shared = g.param('table', [10, 2]);
    g.output('rows', g.op.Gather(shared, ids));
    g.output('sum', g.op.ReduceSum(shared, [0], { keepdims: false }));
    const params = new Map([['table', { name: 'table', shape: [10, 2], data: table(10, 2) }]]);
    const model = readOnnxModel(serialize(g.build(), { params }), 'shared.onnx');
    expect(() => findVocabTables(model, 'shared.onnx')).toThrow(expect.objectContaining({ code: 'UNSUPPORTED', where: expect.objectContaining({ tensor: 'table' }) }));
  });

  it('trims an export whose graph gathers its tables itself, proving the same probabilities', async () => {
    const dir = temp();
    craftedExport(dir, { idDependent: false });
    const corpus = join(temp(), 'corpus.txt');
    writeFileSync(corpus, 'great service today\nthe staff was lovely\n');
    const out = join(temp(), 'out');
    const report = await trimVocab({ model: dir, corpus: [corpus], out, threads: 1 });
    expect(report.kind).toBe('export');
    expect(report.rows.after).toBeLessThan(60);
    expect(report.proof.probabilities.maxAbsDiff).toBeLessThanOrEqual(1e-6);
  });
});

