// An xlmt export is a model @huggingface/transformers' text-classification pipeline loads offline and answers
// exactly as OnnxClassifier does; `compareWithTransformers` runs both on the same texts.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agreement, compareWithTransformers } from '../../src/bench/compare.ts';
import { loadTransformersPipeline, type TransformersClassifier } from '../../src/bench/transformers-pipeline.ts';
import { TOKENIZER_CONFIG_FILE } from '../../src/export/hf-tokenizer.ts';
import { OnnxClassifier } from '../../src/infer/onnx-classifier.ts';
import { exportedModel } from '../infer/exported-model.ts';
import type { RunFixture } from '../train/fixtures.ts';

/** The run fixture cut down to its multiclass task: rows labeled for sentiment, with that label only. */
function sentimentOnly(data: RunFixture): void {
  for (const file of [data.train, data.dev]) {
    const rows = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { labels: Record<string, unknown> });
    const kept = rows.filter((r) => r.labels['sentiment'] !== undefined).map((r) => ({ ...r, labels: { sentiment: r.labels['sentiment'] } }));
    writeFileSync(file, `${kept.map((r) => JSON.stringify(r)).join('\n')}\n`);
  }
  writeFileSync(data.tasks, JSON.stringify({ sentiment: { type: 'multiclass', labels: ['negative', 'positive'] } }));
}

let data: RunFixture;
let dir: string;
let ours: OnnxClassifier;
let theirs: TransformersClassifier;
beforeAll(async () => {
  const fixture = await exportedModel({ prepare: sentimentOnly, training: { epochs: 8, lr: 5e-3 } });
  data = fixture.data;
  dir = fixture.dir;
  ours = await OnnxClassifier.load(dir, { threads: 1, batchSize: 4 });
  theirs = await loadTransformersPipeline(dir, 1);
}, 120_000);

afterAll(async () => {
  await ours?.release();
  await theirs?.release();
});

const devTexts = (): string[] => readFileSync(data.dev, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { text: string }).text);

describe('transformers.js on an xlmt export', () => {
  it('finds a tokenizer config naming the tokenizer class, the trained length and the special tokens', () => {
    expect(JSON.parse(readFileSync(join(dir, TOKENIZER_CONFIG_FILE), 'utf8'))).toEqual({
      tokenizer_class: 'PreTrainedTokenizerFast', model_max_length: 16, padding_side: 'right',
      pad_token: '[PAD]', cls_token: '[CLS]', sep_token: '[SEP]', unk_token: '[UNK]', mask_token: '[MASK]',
    });
  });

  it('gives the labels and scores OnnxClassifier gives, in one padded batch and one text at a time', async () => {
    const texts = [...devTexts().slice(0, 6), 'great', 'the service was awful and slow today'];
    const expected = (await ours.classify(texts)).map((p) => p.tasks['sentiment']);
    const batched = await theirs.classify(texts);
    const single = await Promise.all(texts.map(async (t) => (await theirs.classify([t]))[0]));
    expect(batched).toHaveLength(texts.length);
    texts.forEach((_, i) => {
      const e = expected[i];
      if (!e || !('label' in e)) throw new Error(`text ${i}: no multiclass answer from OnnxClassifier`);
      for (const answer of [batched[i], single[i]]) {
        expect(answer?.label).toBe(e.label);
        expect(Math.abs((answer?.score ?? NaN) - (e.scores[e.label] ?? NaN))).toBeLessThanOrEqual(1e-5);
      }
    });
    // Both labels occur, so agreement is not an accident of a constant classifier.
    expect(new Set(batched.map((b) => b.label)).size).toBe(2);
  });

  it('compares both on the first texts of a file and reports full agreement', async () => {
    const r = await compareWithTransformers({ model: dir, data: data.dev, texts: 12, threads: 1, batchSize: 4, warmup: 4, segment: 5, rounds: 2, single: 3 });
    expect(r.task).toBe('sentiment');
    expect(r.transformersVersion).toMatch(/^\d+\.\d+\.\d+/);
    expect(r.agreement).toMatchObject({ labels: 1, disagreements: 0 });
    expect(r.agreement.maxScoreDiff).toBeLessThanOrEqual(1e-5);
    expect(r.tokenization.sameLength).toBe(12);
    expect(r.variants.map((v) => [v.key, v.texts])).toEqual([['xlmt', 12], ['pipeline', 12], ['pipelineSorted', 12], ['xlmtSingle', 3], ['pipelineSingle', 3]]);
    for (const v of r.variants) {
      expect(v.textsPerSec).toBeCloseTo(v.texts / v.seconds, 6);
      expect(v.passes).toHaveLength(2);
    }
    // Without padding, a pass runs exactly the texts' tokens; batches run at least as many positions.
    const padded = Object.fromEntries(r.variants.map((v) => [v.key, v.paddedTokens]));
    expect(padded['xlmtSingle']).toBe(padded['pipelineSingle']);
    for (const key of ['xlmt', 'pipeline', 'pipelineSorted']) expect(padded[key]).toBeGreaterThanOrEqual(r.tokens.total);
    const rate = (key: string): number => r.variants.find((v) => v.key === key)?.textsPerSec ?? NaN;
    expect(r.ratios.batched).toBeCloseTo(rate('xlmt') / rate('pipeline'), 10);
    expect(r.ratios.single).toBeCloseTo(rate('xlmtSingle') / rate('pipelineSingle'), 10);
    expect(r.ratios.best).toBeCloseTo(Math.max(rate('xlmt'), rate('xlmtSingle')) / Math.max(rate('pipeline'), rate('pipelineSorted'), rate('pipelineSingle')), 10);
  });

  it('asks for more texts than the file has, by flag', async () => {
    await expect(compareWithTransformers({ model: dir, data: data.dev, texts: 10_000, threads: 1, batchSize: 4, warmup: 0, segment: 100, rounds: 1, single: 0 }))
      .rejects.toThrow(/fewer than the 10000 asked for \(--texts\)/);
  });

  it('refuses a multi-task model, whose tasks the pipeline cannot read', async () => {
    const multi = await exportedModel();
    await expect(compareWithTransformers({ model: multi.dir, data: data.dev, texts: 4, threads: 1, batchSize: 4, warmup: 0, segment: 100, rounds: 1, single: 0 }))
      .rejects.toThrow('has tasks sentiment (multiclass), topics (multilabel); the comparison needs one multiclass task');
  }, 120_000);
});

describe('agreement', () => {
  it('counts label differences, those on cut texts apart, and the largest score gap on uncut texts only', () => {
    const ours = [
      { label: 'a', scores: { a: 0.9, b: 0.1 } },
      { label: 'a', scores: { a: 0.6, b: 0.4 } },
      { label: 'b', scores: { a: 0.2, b: 0.8 } },
    ];
    const theirs = [{ label: 'a', score: 0.8999 }, { label: 'b', score: 0.7 }, { label: 'a', score: 0.6 }];
    const r = agreement(ours, theirs, [false, false, true]);
    expect(r).toMatchObject({ disagreements: 2, disagreementsTruncated: 1, labelCounts: { a: 2, b: 1 } });
    expect(r.labels).toBeCloseTo(1 / 3, 10);
    expect(r.maxScoreDiff).toBeCloseTo(0.3, 10);
  });
});
