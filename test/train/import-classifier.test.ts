// transformers *ForSequenceClassification checkpoints: imported as xlmt model directories, they compute what the
// naive forward pass with transformers' heads computes, and they are saved back in transformers' layout.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/builder/index.ts';
import { hfModelConfig, readSafetensors, saveHfModel } from '../../src/checkpoint/index.ts';
import { referenceInferenceGraph } from '../../src/export/graph.ts';
import type { Parameter } from '../../src/ir/params.ts';
import { encoderConfig } from '../../src/models/config.ts';
import { transformersHead } from '../../src/models/heads.ts';
import { initParams } from '../../src/models/init.ts';
import { multiTaskClassifier } from '../../src/models/multitask.ts';
import { Session } from '../../src/runtime/session.ts';
import { parseTrainConfig } from '../../src/train/config.ts';
import { importClassifier } from '../../src/train/import-classifier.ts';
import { setupRun } from '../../src/train/setup.ts';
import { loadModelDir } from '../../src/train/model-dir.ts';
import { naiveClassifierLogits, naiveEncode } from '../models/naive-bert.ts';
import { wordPieceJson } from './fixtures.ts';

const VOCAB = 120;
const config = encoderConfig({
  vocabSize: VOCAB, hiddenSize: 16, numHiddenLayers: 2, numAttentionHeads: 4, intermediateSize: 24,
  maxPositionEmbeddings: 40, typeVocabSize: 1, layerNormEps: 1e-5,
});
const LABELS = ['negative', 'neutral', 'positive'];
const TEXTS = ['the service was great today', 'awful', 'der dienst war heute schlecht und langsam'];

type ModelType = 'bert' | 'xlm-roberta';

/** A checkpoint as transformers writes one: encoder, pooler (BERT), `classifier.*` head, id2label; random weights. */
async function transformersCheckpoint(modelType: ModelType, extra: Record<string, unknown> = {}, labels = LABELS): Promise<{ dir: string; weights: Map<string, Float32Array> }> {
  const g = new GraphBuilder('hf');
  multiTaskClassifier(g, config, [{ name: 'x', type: 'multiclass', labels }], { training: false, pooling: 'cls', headStyle: transformersHead(modelType) });
  const params = new Map<string, Parameter>();
  for (const [name, p] of initParams(g.build(), 5, 0.4)) {
    const key = name.startsWith('heads.x.') ? `classifier.${name.slice('heads.x.'.length)}` : name;
    if (name.includes('LayerNorm')) p.data.forEach((_, i) => { p.data[i] = (name.endsWith('weight') ? 1 : 0) + 0.1 * Math.sin(i + name.length); });
    if (name.endsWith('bias') && !name.includes('LayerNorm')) p.data.forEach((_, i) => { p.data[i] = 0.2 * Math.cos(i + name.length); });
    params.set(key, { ...p, name: key });
  }
  const dir = mkdtempSync(join(tmpdir(), 'xlmt-hf-cls-'));
  const hf = hfModelConfig(config, { modelType, padTokenId: 0, labels, extra });
  await saveHfModel(dir, { config: hf, params });
  writeFileSync(join(dir, 'tokenizer.json'), wordPieceJson(VOCAB));
  return { dir, weights: new Map([...params].map(([k, p]) => [k, p.data])) };
}

const softmax = (z: number[]): number[] => {
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};

describe.each(['bert', 'xlm-roberta'] as const)('%s sequence classifier', (modelType) => {
  const style = transformersHead(modelType);

  it('imports, and its probabilities match the naive forward pass with transformers\' head', async () => {
    const { dir, weights } = await transformersCheckpoint(modelType);
    const out = join(mkdtempSync(join(tmpdir(), 'xlmt-imported-')), 'model');
    const imported = await importClassifier(dir, out, { task: 'sentiment', threshold: 0.5 });
    expect(imported.headStyle).toBe(style);
    expect(imported.report.missing).toEqual([]);
    expect(imported.report.unexpected).toEqual([]);

    const model = await loadModelDir(out);
    expect(model.meta).toMatchObject({ pooling: 'cls', headStyle: style, maxLength: modelType === 'bert' ? 40 : 39 });
    expect(model.schema.tasks.map((t) => [t.name, t.type, t.labels])).toEqual([['sentiment', 'multiclass', LABELS]]);

    const batch = await model.tokenizer.encodeBatch(TEXTS, { maxLength: model.meta.maxLength });
    const graph = referenceInferenceGraph(model.hf.encoder, model.schema.tasks, { pooling: 'cls', headStyle: style, positions: model.meta.positions });
    const session = await Session.create(graph, { threads: 1 });
    const mask = BigInt64Array.from(batch.attentionMask, (m) => BigInt(m));
    const results = await session.run({
      input_ids: { dtype: 'int64', shape: [batch.batch, batch.seq], data: batch.inputIds },
      attention_mask: { dtype: 'int64', shape: [batch.batch, batch.seq], data: mask },
    }, model.params);
    await session.release();
    const probs = results['probs:sentiment']?.data as Float32Array;

    const naiveWeights = new Map([...weights].map(([k, v]) => [k.replace(/^(bert|roberta)\./, ''), v]));
    let worst = 0;
    for (let b = 0; b < batch.batch; b++) {
      const length = batch.lengths[b] as number;
      const ids = Array.from(batch.inputIds.subarray(b * batch.seq, b * batch.seq + length), Number);
      // transformers' positions: 0, 1, … for BERT; padding_idx + 1, + 2, … for RoBERTa and XLM-R.
      const positions = ids.map((_, t) => (modelType === 'bert' ? t : t + 1 + model.hf.padTokenId));
      const states = naiveEncode(naiveWeights, { hidden: 16, layers: 2, heads: 4, ffn: 24, eps: 1e-5 }, ids, positions, ids.map(() => 1));
      const expected = softmax(naiveClassifierLogits(naiveWeights, style, states[0] as number[], LABELS.length));
      expected.forEach((p, l) => { worst = Math.max(worst, Math.abs(p - (probs[b * LABELS.length + l] as number))); });
    }
    expect(worst).toBeLessThan(2e-5);
    // Far from uniform, so the tolerance is a real bound.
    expect(Math.max(...probs) - Math.min(...probs)).toBeGreaterThan(0.1);
  });

  it('is saved in transformers\' layout, so transformers loads the model directory as its classifier', async () => {
    const { dir } = await transformersCheckpoint(modelType);
    const out = join(mkdtempSync(join(tmpdir(), 'xlmt-imported-')), 'model');
    await importClassifier(dir, out, { task: 'sentiment', threshold: 0.5 });
    const saved = await readSafetensors(join(out, 'model.safetensors'));
    const original = await readSafetensors(join(dir, 'model.safetensors'));
    expect([...saved.tensors.keys()].sort()).toEqual([...original.tensors.keys()].sort());
    for (const [key, t] of original.tensors) expect(saved.tensors.get(key)?.bytes, key).toEqual(t.bytes);
    const head = modelType === 'bert' ? ['bert.pooler.dense.weight', 'classifier.weight'] : ['classifier.dense.weight', 'classifier.out_proj.weight'];
    for (const key of head) expect(saved.tensors.has(key), key).toBe(true);
    const json = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(json['architectures']).toEqual([modelType === 'bert' ? 'BertForSequenceClassification' : 'XLMRobertaForSequenceClassification']);
    expect(json['id2label']).toEqual({ 0: 'negative', 1: 'neutral', 2: 'positive' });
    expect(json['problem_type']).toBe('single_label_classification');
  });
});

describe('importClassifier refuses, naming the directory', () => {
  it('a checkpoint with no classification head', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xlmt-hf-base-'));
    const g = new GraphBuilder('base');
    multiTaskClassifier(g, config, [{ name: 'x', type: 'multiclass', labels: ['a', 'b'] }], { training: false, pooling: 'cls', headStyle: 'linear' });
    const params = new Map([...initParams(g.build(), 1)].filter(([name]) => !name.startsWith('heads.')));
    await saveHfModel(dir, { config: hfModelConfig(config, { modelType: 'bert', padTokenId: 0 }), params });
    await expect(importClassifier(dir, `${dir}-out`, { task: 'sentiment', threshold: 0.5 })).rejects.toMatchObject({ code: 'NOT_A_MODEL', message: expect.stringContaining(`${dir}: holds no sequence-classification head`) });
  });

  it('labels that do not match the head', async () => {
    const { dir } = await transformersCheckpoint('bert');
    const configPath = join(dir, 'config.json');
    const json = JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, unknown>;
    writeFileSync(configPath, JSON.stringify({ ...json, id2label: { 0: 'a', 1: 'b' }, label2id: { a: 0, b: 1 } }));
    await expect(importClassifier(dir, `${dir}-out`, { task: 'sentiment', threshold: 0.5 })).rejects.toMatchObject({ code: 'BAD_CONFIG', where: { file: join(dir, 'config.json'), field: 'id2label' }, problem: 'config.json names 2 labels but the classifier has 3 outputs' });
  });

  it('a bad task name, and a tokenizer that is not there', async () => {
    const { dir } = await transformersCheckpoint('bert');
    await expect(importClassifier(dir, `${dir}-out`, { task: '1st', threshold: 0.5 })).rejects.toMatchObject({ code: 'BAD_OPTION', where: { field: '--task' }, message: expect.stringContaining('task name "1st" cannot name parameters and outputs') });
    await expect(importClassifier(dir, `${dir}-out`, { task: 'sentiment', threshold: 0.5, tokenizer: join(dir, 'none.json') }))
      .rejects.toMatchObject({ code: 'FILE_NOT_FOUND', message: expect.stringMatching(new RegExp(`^${join(dir, 'none.json')}: cannot read the tokenizer: .*\\. Give one with --tokenizer FILE$`)) });
  });

  it('takes the task type from problem_type, with thresholds for multilabel', async () => {
    const { dir } = await transformersCheckpoint('xlm-roberta', { problem_type: 'multi_label_classification' });
    const imported = await importClassifier(dir, `${dir}-out`, { task: 'emotion', threshold: 0.4 });
    expect(imported.model.schema.tasks[0]?.type).toBe('multilabel');
    expect(imported.model.meta.thresholds).toEqual({ emotion: [0.4, 0.4, 0.4] });
  });
});

describe('xlmt train --init a transformers classifier', () => {
  async function setupFrom(labels: string[]): Promise<{ weights: Map<string, Float32Array>; params: Map<string, Parameter>; log: string }> {
    const { dir, weights } = await transformersCheckpoint('bert', {}, labels);
    const train = join(dir, 'train.jsonl');
    const rows = ['great service', 'awful staff', 'lovely', 'slow'].map((text, i) => JSON.stringify({ text, lang: 'en', labels: { sentiment: i % 2 ? 'negative' : 'positive' } }));
    writeFileSync(train, `${rows.join('\n')}\n`);
    const lines: string[] = [];
    const setup = await setupRun(parseTrainConfig({ train, init: dir, out: join(dir, 'run'), headStyle: 'bert', maxLength: 16 }, 'test'), (l) => lines.push(l));
    return { weights: new Map([...weights].map(([k, v]) => [k.replace(/^bert\./, ''), v])), params: setup.params, log: lines.join('\n') };
  }

  it('continues its pooler and head when its labels are the task\'s', async () => {
    const { weights, params } = await setupFrom(['negative', 'positive']);
    for (const [name, key] of [['heads.sentiment.weight', 'classifier.weight'], ['heads.sentiment.bias', 'classifier.bias'], ['pooler.dense.weight', 'pooler.dense.weight']]) {
      expect(params.get(name as string)?.data, name).toEqual(weights.get(key as string));
    }
  });

  it('starts the head fresh, and says so, when the labels differ', async () => {
    const { weights, params, log } = await setupFrom(['positive', 'negative']);
    expect(params.get('heads.sentiment.weight')?.data).not.toEqual(weights.get('classifier.weight'));
    expect(params.get('pooler.dense.weight')?.data).toEqual(weights.get('pooler.dense.weight'));
    expect(log).toContain('missing, initialized fresh: heads.sentiment.weight, heads.sentiment.bias');
    expect(log).toContain('unused (task-head): classifier.bias, classifier.weight');
  });
});

describe('xlmt import, then xlmt eval and xlmt export on the imported model', () => {
  it('scores a labeled file with the checkpoint\'s labels', async () => {
    const { dir } = await transformersCheckpoint('xlm-roberta');
    const data = join(dir, 'dev.jsonl');
    const rows = TEXTS.map((text, i) => JSON.stringify({ text, lang: i === 2 ? 'de' : 'en', labels: { sentiment: LABELS[i] } }));
    writeFileSync(data, `${rows.join('\n')}\n`);
    const out = `${dir}-imported`; // beside the checkpoint: an output may not lie inside an input
    const xlmt = (...args: string[]): Promise<{ stdout: string }> => promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args]);
    const imported = await xlmt('import', '--from', dir, '--task', 'sentiment', '--out', out);
    expect(imported.stdout).toContain(`wrote ${out}: task sentiment (multiclass: negative, neutral, positive), roberta head, CLS pooling, max length 39`);
    const evaluated = JSON.parse((await xlmt('eval', '--model', out, '--data', data, '--json', '--threads', '1')).stdout) as { models: { reports: { task: string; n: number; perLanguage: { lang: string }[] }[] }[] };
    const report = evaluated.models[0]?.reports[0];
    expect(report?.task).toBe('sentiment');
    expect(report?.n).toBe(3);
    expect(report?.perLanguage.map((l) => l.lang).sort()).toEqual(['de', 'en']);
    // The export checks its fused graph against the reference forward pass before writing it.
    const exported = JSON.parse((await xlmt('export', '--model', out, '--out', join(dir, 'export'), '--json', '--threads', '1')).stdout) as { check: { tasks: { task: string; agreement: number }[] } };
    expect(exported.check.tasks).toMatchObject([{ task: 'sentiment', agreement: 1 }]);
  }, 60_000);
});
