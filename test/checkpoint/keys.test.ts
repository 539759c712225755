// Mapping checkpoint tensors onto graph parameters: prefixes, legacy LayerNorm names, heads, and the report.
import { describe, expect, it } from 'vitest';
import {
  canonicalName,
  CheckpointError,
  type ExpectedParam,
  float32Tensor,
  formatKeyReport,
  KeyMismatchError,
  mapCheckpoint,
  type SafeTensor,
} from '../../src/checkpoint/index.ts';
import { u16Bytes } from './helpers.ts';

const f32 = (values: number[], shape: number[] = [values.length]): SafeTensor => float32Tensor(Float32Array.from(values), shape);
const tensors = (entries: Record<string, SafeTensor>): Map<string, SafeTensor> => new Map(Object.entries(entries));
const want = (entries: Record<string, number[]>): ExpectedParam[] => Object.entries(entries).map(([name, shape]) => ({ name, shape }));

function mismatch(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof KeyMismatchError) return e.issues;
    throw e;
  }
  throw new Error('no KeyMismatchError');
}

describe('canonicalName', () => {
  it.each([
    ['bert.embeddings.word_embeddings.weight', 'embeddings.word_embeddings.weight'],
    ['roberta.encoder.layer.0.output.dense.bias', 'encoder.layer.0.output.dense.bias'],
    ['xlm_roberta.embeddings.LayerNorm.weight', 'embeddings.LayerNorm.weight'],
    ['bert.embeddings.LayerNorm.gamma', 'embeddings.LayerNorm.weight'],
    ['encoder.layer.3.attention.output.LayerNorm.beta', 'encoder.layer.3.attention.output.LayerNorm.bias'],
    ['classifier.weight', 'classifier.weight'],
    ['cls.predictions.transform.LayerNorm.gamma', 'cls.predictions.transform.LayerNorm.weight'],
    // RoBERTa's masked-LM head takes BERT's names; its tied decoder does not map.
    ['lm_head.dense.weight', 'cls.predictions.transform.dense.weight'],
    ['lm_head.layer_norm.bias', 'cls.predictions.transform.LayerNorm.bias'],
    ['lm_head.bias', 'cls.predictions.bias'],
    ['lm_head.decoder.bias', 'lm_head.decoder.bias'],
    ['lm_head.biased', 'lm_head.biased'],
    // Only LayerNorm parameters are renamed, and only the base-model prefix at the start is removed.
    ['encoder.gamma', 'encoder.gamma'],
    ['heads.bert.weight', 'heads.bert.weight'],
  ])('%s → %s', (key, name) => {
    expect(canonicalName(key)).toBe(name);
  });
});

describe('mapCheckpoint', () => {
  it('loads prefixed and legacy-named tensors under the graph names, reporting leftovers by kind', () => {
    const { params, report } = mapCheckpoint(
      want({ 'embeddings.LayerNorm.weight': [2], 'embeddings.LayerNorm.bias': [2], 'encoder.layer.0.output.dense.weight': [1, 2] }),
      tensors({
        'bert.embeddings.LayerNorm.gamma': f32([1, 2]),
        'bert.embeddings.LayerNorm.beta': f32([3, 4]),
        'bert.encoder.layer.0.output.dense.weight': f32([5, 6], [1, 2]),
        'bert.embeddings.position_ids': { dtype: 'I64', shape: [1, 1], bytes: new Uint8Array(8) },
        'bert.pooler.dense.weight': f32([0]),
        'cls.predictions.bias': f32([0]),
        'lm_head.dense.weight': f32([0]),
        'classifier.weight': f32([0]),
        'something.else': f32([0]),
      }),
    );
    expect([...params].map(([name, p]) => [name, p.name, p.shape, Array.from(p.data)])).toEqual([
      ['embeddings.LayerNorm.weight', 'embeddings.LayerNorm.weight', [2], [1, 2]],
      ['embeddings.LayerNorm.bias', 'embeddings.LayerNorm.bias', [2], [3, 4]],
      ['encoder.layer.0.output.dense.weight', 'encoder.layer.0.output.dense.weight', [1, 2], [5, 6]],
    ]);
    expect(report.loaded).toEqual([
      { name: 'embeddings.LayerNorm.weight', key: 'bert.embeddings.LayerNorm.gamma', dtype: 'F32', copied: false },
      { name: 'embeddings.LayerNorm.bias', key: 'bert.embeddings.LayerNorm.beta', dtype: 'F32', copied: false },
      { name: 'encoder.layer.0.output.dense.weight', key: 'bert.encoder.layer.0.output.dense.weight', dtype: 'F32', copied: false },
    ]);
    expect(report.missing).toEqual([]);
    expect(report.unexpected.map((u) => [u.key, u.kind])).toEqual([
      ['bert.embeddings.position_ids', 'buffer'],
      ['bert.pooler.dense.weight', 'pooler'],
      ['cls.predictions.bias', 'pretraining-head'],
      ['lm_head.dense.weight', 'pretraining-head'],
      ['classifier.weight', 'task-head'],
      ['something.else', 'other'],
    ]);
    expect(formatKeyReport(report)).toBe(
      [
        'loaded 3 tensors',
        'unused (buffer): bert.embeddings.position_ids',
        'unused (pooler): bert.pooler.dense.weight',
        'unused (pretraining-head): cls.predictions.bias, lm_head.dense.weight',
        'unused (task-head): classifier.weight',
        'unused (other): something.else',
      ].join('\n'),
    );
  });

  it('shares memory with aligned F32 bytes and converts F16 and BF16, recording the source dtype', () => {
    const weight = f32([1, 2]);
    const { params, report } = mapCheckpoint(
      want({ a: [2], b: [2], c: [2] }),
      tensors({
        a: weight,
        b: { dtype: 'F16', shape: [2], bytes: Uint8Array.from(u16Bytes([0x3555, 0xc000])) },
        c: { dtype: 'BF16', shape: [2], bytes: Uint8Array.from(u16Bytes([0xc049, 0x3e80])) },
      }),
    );
    expect(params.get('a')?.data.buffer).toBe(weight.bytes.buffer);
    expect(Array.from(params.get('b')?.data ?? [])).toEqual([0.333251953125, -2]);
    expect(Array.from(params.get('c')?.data ?? [])).toEqual([-3.140625, 0.25]);
    expect(report.loaded.map((l) => [l.name, l.dtype, l.copied])).toEqual([
      ['a', 'F32', false],
      ['b', 'F16', true],
      ['c', 'BF16', true],
    ]);
    expect(formatKeyReport(report)).toBe('loaded 3 tensors (converted to F32: 1 from F16, 1 from BF16)');
  });

  it('maps a BERT classification head only when the graph has one', () => {
    const checkpoint = tensors({ 'bert.embeddings.word_embeddings.weight': f32([1, 2], [1, 2]), 'classifier.weight': f32([3, 4], [1, 2]), 'classifier.bias': f32([5]) });
    const withHead = mapCheckpoint(want({ 'embeddings.word_embeddings.weight': [1, 2], 'classifier.weight': [1, 2], 'classifier.bias': [1] }), checkpoint);
    expect(Array.from(withHead.params.get('classifier.weight')?.data ?? [])).toEqual([3, 4]);
    expect(withHead.report.unexpected).toEqual([]);
    const encoderOnly = mapCheckpoint(want({ 'embeddings.word_embeddings.weight': [1, 2] }), checkpoint);
    expect(encoderOnly.report.unexpected.map((u) => u.key)).toEqual(['classifier.weight', 'classifier.bias']);
  });

  it('maps a RoBERTa classification head (dense + out_proj) only onto the same names', () => {
    const checkpoint = tensors({
      'roberta.embeddings.word_embeddings.weight': f32([1, 2], [1, 2]),
      'classifier.dense.weight': f32([1, 2, 3, 4], [2, 2]),
      'classifier.dense.bias': f32([1, 2]),
      'classifier.out_proj.weight': f32([5, 6], [1, 2]),
      'classifier.out_proj.bias': f32([7]),
    });
    const robertaHead = mapCheckpoint(
      want({
        'embeddings.word_embeddings.weight': [1, 2],
        'classifier.dense.weight': [2, 2],
        'classifier.dense.bias': [2],
        'classifier.out_proj.weight': [1, 2],
        'classifier.out_proj.bias': [1],
      }),
      checkpoint,
    );
    expect(robertaHead.report.loaded.map((l) => l.key)).toEqual([...checkpoint.keys()]);
    expect(robertaHead.report.unexpected).toEqual([]);
    // A graph with a single linear head does not take the RoBERTa head's tensors: it starts fresh.
    const linearHead = mapCheckpoint(want({ 'embeddings.word_embeddings.weight': [1, 2], 'classifier.weight': [1, 2], 'classifier.bias': [1] }), checkpoint, {
      allowMissing: [/^classifier\./],
    });
    expect(linearHead.report.missing).toEqual(['classifier.weight', 'classifier.bias']);
    expect(linearHead.report.unexpected.map((u) => [u.key, u.kind])).toEqual([
      ['classifier.dense.weight', 'task-head'],
      ['classifier.dense.bias', 'task-head'],
      ['classifier.out_proj.weight', 'task-head'],
      ['classifier.out_proj.bias', 'task-head'],
    ]);
    expect(formatKeyReport(linearHead.report)).toContain('missing, initialized fresh: classifier.weight, classifier.bias');
  });

  it('allows missing parameters only when listed, by name or pattern', () => {
    const checkpoint = tensors({ 'bert.encoder.x.weight': f32([1]) });
    const expected = want({ 'encoder.x.weight': [1], 'classifier.weight': [2, 1], 'classifier.bias': [2] });
    expect(mismatch(() => mapCheckpoint(expected, checkpoint, { source: '/models/m' }))).toEqual([
      'classifier.weight: missing from the checkpoint',
      'classifier.bias: missing from the checkpoint',
    ]);
    expect(mapCheckpoint(expected, checkpoint, { allowMissing: ['classifier.weight', /bias$/] }).report.missing).toEqual(['classifier.weight', 'classifier.bias']);
    expect(mismatch(() => mapCheckpoint(expected, checkpoint, { allowMissing: ['classifier.weight'] }))).toEqual(['classifier.bias: missing from the checkpoint']);
  });

  it('reports every problem at once, in one error that names the checkpoint', () => {
    const checkpoint = tensors({
      'bert.a': f32([1, 2, 3, 4, 5, 6], [2, 3]),
      b: { dtype: 'I32', shape: [1], bytes: new Uint8Array(4) },
      'bert.c': f32([1]),
      c: f32([2]),
    });
    let error: unknown;
    try {
      mapCheckpoint(want({ a: [3, 2], b: [1], c: [1], d: [4] }), checkpoint, { source: '/models/m' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CheckpointError);
    expect((error as CheckpointError).code).toBe('KEY_MISMATCH');
    expect((error as Error).message).toBe(
      [
        '/models/m: checkpoint does not fit the graph (4 problems):',
        '  c: both "bert.c" and "c" map to it',
        '  a (as "bert.a"): shape mismatch, graph [3, 2], checkpoint [2, 3]',
        '  b: dtype I32 cannot load as a float32 parameter (float dtypes: F32, F16, BF16, F64)',
        '  d: missing from the checkpoint. Parameters that may start fresh (a new classifier head) can be listed in allowMissing',
      ].join('\n'),
    );
  });

  it('refuses symbolic graph shapes and repeated expected names', () => {
    expect(mismatch(() => mapCheckpoint([{ name: 'a', shape: ['n', 2] }], tensors({ a: f32([1, 2], [1, 2]) })))).toEqual([
      "a: the graph's shape [n, 2] is symbolic; parameters need static shapes",
    ]);
    expect(() => mapCheckpoint(want({ a: [1] }).concat(want({ a: [1] })), tensors({}))).toThrow('checkpoint: expected parameter "a" is listed twice');
  });

  it('loads an XLM-R lm_head into the graph\'s cls.predictions parameters, leaving the tied decoder unused', () => {
    const { params, report } = mapCheckpoint(
      want({ 'cls.predictions.transform.LayerNorm.weight': [2], 'cls.predictions.bias': [3] }),
      tensors({
        'lm_head.layer_norm.weight': f32([1, 2]),
        'lm_head.bias': f32([3, 4, 5]),
        'lm_head.decoder.weight': f32([0, 0, 0, 0, 0, 0], [3, 2]),
        'heads.topic.weight': f32([0]),
      }),
    );
    expect([...params].map(([name, p]) => [name, Array.from(p.data)])).toEqual([
      ['cls.predictions.transform.LayerNorm.weight', [1, 2]],
      ['cls.predictions.bias', [3, 4, 5]],
    ]);
    expect(report.unexpected.map((u) => [u.key, u.kind])).toEqual([
      ['lm_head.decoder.weight', 'pretraining-head'],
      ['heads.topic.weight', 'task-head'],
    ]);
  });

  it('prefers an exact name over a prefix-stripped one', () => {
    const { params, report } = mapCheckpoint(want({ 'bert.odd': [1] }), tensors({ 'bert.odd': f32([9]) }));
    expect(Array.from(params.get('bert.odd')?.data ?? [])).toEqual([9]);
    expect(report.unexpected).toEqual([]);
  });
});
