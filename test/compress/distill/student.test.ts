// studentFromTeacher: a same-hidden student is the teacher's mapped layers exactly (heads and FFN neurons cut by
// weight magnitude); a narrower one has the teacher's embeddings projected by truncated SVD and everything else
// initialized; every shape the teacher cannot give is refused before any weight is touched.
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultLayerMap } from '../../../src/compress/distill/student-shape.ts';
import { truncatedSvd } from '../../../src/compress/distill/student-svd.ts';
import { groups, studentFromTeacher } from '../../../src/compress/distill/student.ts';
import type { Parameter } from '../../../src/ir/params.ts';
import { layerShapes } from '../../../src/models/config.ts';
import { loadModelDir, type TrainedModel } from '../../../src/train/model-dir.ts';
import { runFixture, trainedRun } from '../../train/fixtures.ts';

let teacher: TrainedModel;

beforeAll(async () => {
  const data = await runFixture(40, 12);
  // hidden 16, 4 heads of size 4, FFN 32, 3 layers
  teacher = await loadModelDir(join(await trainedRun(data, { layers: 3, heads: 4 }), 'best'));
}, 60_000);

const param = (m: TrainedModel, name: string): Parameter => {
  const p = m.params.get(name);
  if (!p) throw new Error(`no ${name}`);
  return p;
};
const layerParams = (m: TrainedModel, layer: number): string[] => [...m.params.keys()].filter((k) => k.startsWith(`encoder.layer.${layer}.`));

describe('defaultLayerMap', () => {
  it('spreads the student\'s layers evenly from the teacher\'s first', () => {
    expect(defaultLayerMap(12, 6)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(defaultLayerMap(12, 4)).toEqual([0, 3, 6, 9]);
    expect(defaultLayerMap(3, 3)).toEqual([0, 1, 2]);
  });
});

describe('a student of the teacher\'s hidden size', () => {
  it('is the teacher\'s mapped layers exactly, with its embeddings, pooler and heads; nothing initialized', () => {
    const { model, record } = studentFromTeacher(teacher, { layers: 2 }, { layerMap: [0, 2] });
    expect(model.hf.encoder.numHiddenLayers).toBe(2);
    for (const [student, from] of [[0, 0], [1, 2]] as const) {
      for (const name of layerParams(teacher, from)) {
        const renamed = name.replace(`encoder.layer.${from}.`, `encoder.layer.${student}.`);
        expect(param(model, renamed).data).toEqual(param(teacher, name).data);
      }
    }
    for (const name of [...teacher.params.keys()].filter((k) => !k.startsWith('encoder.layer.'))) {
      expect(param(model, name).data).toEqual(param(teacher, name).data);
    }
    expect(param(model, 'embeddings.word_embeddings.weight').data).not.toBe(param(teacher, 'embeddings.word_embeddings.weight').data);
    expect(record).toMatchObject({ weights: 'teacher', layerMap: [0, 2], shape: { layers: 2, hidden: 16, heads: [4, 4], ffn: [32, 32] }, projected: [], initialized: [] });
    expect(record.copied).toEqual(expect.arrayContaining(['embeddings.word_embeddings', 'encoder.layer.0', 'encoder.layer.1', 'heads.sentiment', 'heads.topics']));
    expect(record.keptHeads).toBeUndefined();
    expect(model.tokenizer).toBe(teacher.tokenizer);
    expect(model.schema).toBe(teacher.schema);
    expect(model.meta).toMatchObject({ pooling: teacher.meta.pooling, headStyle: teacher.meta.headStyle, thresholds: {}, info: { compression: [] } });
  });

  it('maps layers evenly by default, and takes its layer count from the map', () => {
    expect(studentFromTeacher(teacher, { layers: 2 }).record.layerMap).toEqual([0, 1]);
    expect(studentFromTeacher(teacher, {}, { layerMap: [1, 2] }).record.shape.layers).toBe(2);
  });

  it('keeps the heads and FFN neurons with the largest weights, cut as prune does', () => {
    const { model, record } = studentFromTeacher(teacher, { layers: 1, heads: 2, ffn: 8 }, { layerMap: [1] });
    expect(layerShapes(model.hf.encoder).map((s) => [s.heads.length, s.intermediateSize])).toEqual([[2, 8]]);
    // Scores computed here from the teacher's layer 1, block by block.
    const norm = (xs: ArrayLike<number>): number => Math.sqrt(Array.from(xs).reduce((s, x) => s + x * x, 0));
    const value = param(teacher, 'encoder.layer.1.attention.self.value.weight'); // [16, 16], rows in head blocks of 4
    const output = param(teacher, 'encoder.layer.1.attention.output.dense.weight'); // [16, 16], columns in head blocks
    const headScore = (h: number): number => norm(value.data.subarray(h * 64, h * 64 + 64))
      * norm(Array.from({ length: 16 * 4 }, (_, i) => output.data[Math.floor(i / 4) * 16 + h * 4 + (i % 4)] as number));
    const expectedHeads = [0, 1, 2, 3].sort((a, b) => headScore(b) - headScore(a)).slice(0, 2).sort();
    expect(record.keptHeads).toEqual([expectedHeads]);
    expect(model.hf.encoder.prunedHeads).toEqual({ 0: [0, 1, 2, 3].filter((h) => !expectedHeads.includes(h)) });
    const query = param(teacher, 'encoder.layer.1.attention.self.query.weight');
    const keptQuery = expectedHeads.flatMap((h) => Array.from(query.data.subarray(h * 64, h * 64 + 64)));
    expect(Array.from(param(model, 'encoder.layer.0.attention.self.query.weight').data)).toEqual(keptQuery);
    const input = param(teacher, 'encoder.layer.1.intermediate.dense.weight'); // [32, 16]
    const down = param(teacher, 'encoder.layer.1.output.dense.weight'); // [16, 32]
    const neuronScore = (n: number): number => norm(input.data.subarray(n * 16, n * 16 + 16)) * norm(Array.from({ length: 16 }, (_, r) => down.data[r * 32 + n] as number));
    const expectedNeurons = Array.from({ length: 32 }, (_, n) => n).sort((a, b) => neuronScore(b) - neuronScore(a)).slice(0, 8).sort((a, b) => a - b);
    const keptRows = expectedNeurons.flatMap((n) => Array.from(input.data.subarray(n * 16, n * 16 + 16)));
    expect(Array.from(param(model, 'encoder.layer.0.intermediate.dense.weight').data)).toEqual(keptRows);
    expect(record.selection).toMatch(/weight magnitude/);
  });
});

describe('a narrower student', () => {
  it('has the teacher\'s embeddings projected by one truncated SVD basis, and everything else initialized', () => {
    const { model, record } = studentFromTeacher(teacher, { hidden: 8 }, { seed: 3 });
    // The teacher's head size (4) and FFN ratio (2) kept: 2 heads, FFN 16; its 3 layers.
    expect(record.shape).toEqual({ layers: 3, hidden: 8, heads: [2, 2, 2], ffn: [16, 16, 16] });
    const words = param(teacher, 'embeddings.word_embeddings.weight');
    const svd = truncatedSvd({ data: words.data, rows: words.shape[0] as number, cols: 16 }, 8);
    const projectedBy = (name: string): number[] => {
      const table = param(teacher, name);
      const rows = table.shape[0] as number;
      return Array.from({ length: rows * 8 }, (_, i) => {
        const r = Math.floor(i / 8);
        const c = i % 8;
        let sum = 0;
        for (let j = 0; j < 16; j++) sum += (table.data[r * 16 + j] as number) * (svd.basis.data[j * 8 + c] as number);
        return sum;
      });
    };
    for (const name of ['embeddings.word_embeddings.weight', 'embeddings.position_embeddings.weight', 'embeddings.token_type_embeddings.weight']) {
      const got = param(model, name);
      expect(got.shape).toEqual([param(teacher, name).shape[0], 8]);
      projectedBy(name).forEach((x, i) => expect(got.data[i]).toBeCloseTo(x, 5));
    }
    expect(record.projected).toEqual(['embeddings.word_embeddings', 'embeddings.position_embeddings', 'embeddings.token_type_embeddings']);
    expect(record.copied).toEqual([]);
    expect(record.initialized).toEqual(expect.arrayContaining(['embeddings.LayerNorm', 'encoder.layer.0', 'encoder.layer.2', 'heads.sentiment', 'heads.topics']));
    expect(record.svd?.rank).toBe(8);
    expect(record.svd?.wordRelativeError).toBeCloseTo(Math.sqrt(1 - svd.retainedEnergy), 6);
    expect(record.svd?.energyKept['embeddings.word_embeddings.weight']).toBeCloseTo(svd.retainedEnergy, 5);
    // Initialized as a new model: N(0, 0.02) weights, zero biases, unit LayerNorm.
    expect(Array.from(param(model, 'embeddings.LayerNorm.weight').data).every((x) => x === 1)).toBe(true);
    expect(Array.from(param(model, 'encoder.layer.0.attention.self.query.bias').data).every((x) => x === 0)).toBe(true);
    const q = Array.from(param(model, 'encoder.layer.0.attention.self.query.weight').data);
    expect(Math.sqrt(q.reduce((s, x) => s + x * x, 0) / q.length)).toBeGreaterThan(0.01);
    expect(Math.sqrt(q.reduce((s, x) => s + x * x, 0) / q.length)).toBeLessThan(0.03);
  });

  it('with --weights random, is initialized throughout, the same for the same seed', () => {
    const a = studentFromTeacher(teacher, { layers: 2 }, { weights: 'random', seed: 9 });
    const b = studentFromTeacher(teacher, { layers: 2 }, { weights: 'random', seed: 9 });
    expect(a.record).toMatchObject({ weights: 'random', copied: [], projected: [], shape: { layers: 2, hidden: 16, heads: [4, 4], ffn: [32, 32] } });
    expect(param(a.model, 'embeddings.word_embeddings.weight').data).toEqual(param(b.model, 'embeddings.word_embeddings.weight').data);
    expect(param(a.model, 'embeddings.word_embeddings.weight').data).not.toEqual(param(teacher, 'embeddings.word_embeddings.weight').data);
  });

  it('takes its sizes from a preset when named', () => {
    // xtremedistil-l6-h256: 6 layers, hidden 256, wider than this teacher: refused for --preset.
    expect(() => studentFromTeacher(teacher, { preset: 'xtremedistil-l6-h256-uncased' })).toThrow(expect.objectContaining({ code: 'BAD_OPTION', where: { field: '--preset' } }));
    const random = studentFromTeacher(teacher, { preset: 'xtremedistil-l6-h256-uncased', hidden: 8, layers: 1 }, { weights: 'random' });
    expect(random.record.shape).toEqual({ layers: 1, hidden: 8, heads: [8], ffn: [1024] });
  });
});

describe('refusals, before any weight is touched', () => {
  it.each([
    ['heads that do not divide the hidden size', { hidden: 8, heads: 3 }, {}, '--heads'],
    ['a layer map out of range', { layers: 2 }, { layerMap: [0, 3] }, '--layer-map'],
    ['a layer map of the wrong length', { layers: 2 }, { layerMap: [0] }, '--layer-map'],
    ['a layer map that goes down', { layers: 2 }, { layerMap: [2, 0] }, '--layer-map'],
    ['a layer map for a narrower student', { hidden: 8 }, { layerMap: [0] }, '--layer-map'],
    ['more layers than the teacher has, copied', { layers: 4 }, {}, '--layers'],
    ['more heads than the teacher\'s layers have, copied', { heads: 8 }, {}, '--heads'],
    ['a wider FFN than the teacher\'s, copied', { ffn: 64 }, {}, '--ffn'],
    ['a student wider than the teacher', { hidden: 32, heads: 4 }, {}, '--hidden'],
    ['a size that is not a positive integer', { layers: 0 }, {}, '--layers'],
  ] as const)('%s', (_, spec, options, field) => {
    expect(() => studentFromTeacher(teacher, spec, options)).toThrow(expect.objectContaining({ code: 'BAD_OPTION', where: expect.objectContaining({ field }) }));
  });

  it('allows more layers than the teacher when nothing is copied', () => {
    expect(studentFromTeacher(teacher, { layers: 4, hidden: 8 }).record.shape.layers).toBe(4);
  });
});

describe('groups', () => {
  it('names parameters by layer, task head and table', () => {
    expect(groups(['encoder.layer.10.attention.self.query.weight', 'encoder.layer.10.output.dense.bias', 'heads.topics.weight', 'embeddings.LayerNorm.bias', 'pooler.dense.weight']))
      .toEqual(['encoder.layer.10', 'heads.topics', 'embeddings.LayerNorm', 'pooler.dense']);
  });
});
