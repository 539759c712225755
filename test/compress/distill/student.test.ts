// studentFromTeacher: a same-hidden student is the teacher's mapped layers exactly (heads and FFN neurons cut by
// weight magnitude); a narrower one has the teacher's embeddings projected by truncated SVD and everything else
// initialized, or with --weights select every weight sliced from the teacher's; every shape the teacher cannot give
// is refused before any weight is touched.
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultLayerMap } from '../../../src/compress/distill/student-shape.ts';
import { truncatedSvd } from '../../../src/compress/distill/student-svd.ts';
import { evenlySpaced, hiddenAxes } from '../../../src/compress/distill/student-select.ts';
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

describe('a narrower student with every weight selected (--weights select)', () => {
  const keep = [0, 2, 4, 6, 8, 10, 12, 14]; // 8 of the teacher's 16 hidden coordinates, evenly spaced
  /** A [rows, cols] parameter's rows and/or columns at `keep`, computed here. */
  const slice = (p: Parameter, rows: boolean, cols: boolean): number[] => {
    const [r, c] = p.shape.length === 2 ? [p.shape[0] as number, p.shape[1] as number] : [1, p.shape[0] as number];
    const rowIdx = rows ? keep : Array.from({ length: r }, (_, i) => i);
    const colIdx = cols ? keep : Array.from({ length: c }, (_, i) => i);
    return rowIdx.flatMap((i) => colIdx.map((j) => p.data[i * c + j] as number));
  };

  it('is the same-width copy (layers mapped, heads and neurons cut by magnitude) with every hidden axis cut to evenly spaced coordinates', () => {
    const { model, record } = studentFromTeacher(teacher, { layers: 2, hidden: 8 }, { weights: 'select', layerMap: [0, 2] });
    // The teacher's head size (4) kept: 2 heads; its FFN ratio (2): 16 neurons.
    expect(record).toMatchObject({ weights: 'select', layerMap: [0, 2], shape: { layers: 2, hidden: 8, heads: [2, 2], ffn: [16, 16] }, projected: [], initialized: [] });
    expect(record.selection).toMatch(/weight magnitude.*hidden coordinates evenly spaced, 8 of 16/);
    expect(model.hf.encoder.prunedHeads ?? {}).toEqual({});
    const copy = studentFromTeacher(teacher, { layers: 2, heads: 2, ffn: 16 }, { layerMap: [0, 2] }).model; // tested above
    const cases: readonly (readonly [string, boolean, boolean])[] = [
      ['embeddings.word_embeddings.weight', false, true],
      ['embeddings.position_embeddings.weight', false, true],
      ['embeddings.LayerNorm.weight', false, true],
      ['encoder.layer.1.attention.self.query.weight', false, true],
      ['encoder.layer.1.attention.self.query.bias', false, false],
      ['encoder.layer.1.attention.output.dense.weight', true, false],
      ['encoder.layer.1.attention.output.dense.bias', false, true],
      ['encoder.layer.1.attention.output.LayerNorm.bias', false, true],
      ['encoder.layer.1.intermediate.dense.weight', false, true],
      ['encoder.layer.1.intermediate.dense.bias', false, false],
      ['encoder.layer.1.output.dense.weight', true, false],
      ['encoder.layer.1.output.LayerNorm.weight', false, true],
      ['heads.sentiment.weight', false, true],
      ['heads.topics.bias', false, false],
    ];
    for (const [name, rows, cols] of cases) expect(Array.from(param(model, name).data), name).toEqual(slice(param(copy, name), rows, cols));
    // Every parameter came from the teacher, each of the student's shape.
    for (const [name, p] of model.params) expect(p.data.length, name).toBe(p.shape.reduce((a, b) => a * b, 1));
  });

  it('knows the hidden axes of every parameter of each head style, by name', () => {
    for (const name of teacher.params.keys()) expect(hiddenAxes(name), name).toBeDefined();
    expect(hiddenAxes('pooler.dense.weight')).toEqual([0, 1]);
    expect(hiddenAxes('heads.topic.dense.weight')).toEqual([0, 1]);
    expect(hiddenAxes('heads.topic.dense.bias')).toEqual([0]);
    expect(hiddenAxes('heads.topic.out_proj.weight')).toEqual([1]);
    expect(hiddenAxes('heads.topic.out_proj.bias')).toEqual([]);
    expect(hiddenAxes('something.else')).toBeUndefined();
    expect(evenlySpaced(384, 192).slice(0, 3)).toEqual([0, 2, 4]);
    expect(evenlySpaced(384, 192).at(-1)).toBe(382);
    expect(evenlySpaced(10, 3)).toEqual([0, 3, 6]);
  });

  it('is the plain copy at the teacher\'s own hidden size', () => {
    const a = studentFromTeacher(teacher, { layers: 2 }, { weights: 'select' });
    const b = studentFromTeacher(teacher, { layers: 2 });
    for (const [name, p] of a.model.params) expect(p.data, name).toEqual(param(b.model, name).data);
  });

  it.each([
    ['a hidden size that is no whole number of the teacher\'s heads', { hidden: 6 }, '--hidden'],
    ['heads that are not the hidden size over the teacher\'s head size', { hidden: 8, heads: 4 }, '--heads'],
    ['a student wider than the teacher', { hidden: 32 }, '--hidden'],
    ['a wider FFN than the teacher\'s', { hidden: 8, ffn: 64 }, '--ffn'],
    ['more layers than the teacher has', { hidden: 8, layers: 4 }, '--layers'],
  ] as const)('refuses %s', (_, spec, field) => {
    expect(() => studentFromTeacher(teacher, spec, { weights: 'select' })).toThrow(expect.objectContaining({ code: 'BAD_OPTION', where: expect.objectContaining({ field }) }));
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
