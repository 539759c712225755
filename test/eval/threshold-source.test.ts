// Multilabel thresholds tuned on the examples scored make the scores optimistic: every report says where its
// thresholds came from, in data (TaskReport.thresholdSource, in --json) and in the text of `xlmt eval`.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { reportText } from '../../src/cli/eval.ts';
import { makeSchema, makeTask, type Dataset } from '../../src/data/index.ts';
import { evaluateTask } from '../../src/eval/index.ts';
import { evaluateDataset, fingerprintFile, recordedFingerprint, type ScoreExamples } from '../../src/train/evaluate.ts';
import { emotion, emotionPredictions, sentiment, sentimentPredictions } from './fixtures.ts';

describe('TaskReport.thresholdSource', () => {
  it('is null for multiclass tasks, the default without thresholds, "given" with them', () => {
    expect(evaluateTask(sentiment, sentimentPredictions).thresholdSource).toBeNull();
    expect(evaluateTask(emotion, emotionPredictions).thresholdSource).toEqual({ kind: 'default', tunedOn: null, optimistic: false });
    expect(evaluateTask(emotion, emotionPredictions, { thresholds: [0.5, 0.6, 0.65] }).thresholdSource).toEqual({ kind: 'given', tunedOn: null, optimistic: false });
    const tuned = { kind: 'tuned', tunedOn: 'dev.jsonl', optimistic: true } as const;
    expect(evaluateTask(emotion, emotionPredictions, { thresholds: [0.5, 0.6, 0.65], thresholdSource: tuned }).thresholdSource).toEqual(tuned);
  });
});

describe('evaluateDataset: where the thresholds came from', () => {
  const dir = mkdtempSync(join(tmpdir(), 'xlmt-thresholds-'));
  const topics = makeTask('topics', 'multilabel', ['a', 'b']);
  const mood = makeTask('mood', 'multiclass', ['neg', 'pos']);
  const schema = makeSchema([topics, mood], { kind: 'inline', file: null });
  const dataset = (file: string, text: string): Dataset => {
    writeFileSync(file, text);
    const examples = [0, 1, 2, 3].map((i) => ({
      id: String(i), text: `t${i}`, lang: 'en', line: i + 1,
      labels: new Map<string, number | number[]>([['topics', i % 2 === 0 ? [0] : [1]], ['mood', i % 2]]),
    }));
    return { file, format: 'jsonl', schema, examples };
  };
  const dev = dataset(join(dir, 'dev.jsonl'), 'dev rows\n');
  const test = dataset(join(dir, 'test.jsonl'), 'other rows\n');
  const score: ScoreExamples = async (indices) => new Map([
    ['topics', Float32Array.from(indices.flatMap((i) => (i % 2 === 0 ? [0.7, 0.2] : [0.3, 0.6])))],
    ['mood', Float32Array.from(indices.flatMap((i) => (i % 2 === 0 ? [0.8, 0.2] : [0.1, 0.9])))],
  ]);
  const source = async (...args: Parameters<typeof evaluateDataset>) => (await evaluateDataset(...args)).reports.map((r) => [r.task, r.thresholdSource]);

  it('marks thresholds tuned on the scored file as optimistic, multiclass tasks as having none', async () => {
    expect(await source(score, dev, schema.tasks, { tune: true })).toEqual([
      ['topics', { kind: 'tuned', tunedOn: dev.file, optimistic: true }],
      ['mood', null],
    ]);
  });

  it('recognizes the file stored thresholds were tuned on by its bytes, not its path', async () => {
    const tunedOn = await fingerprintFile(dev.file);
    const thresholds = { topics: [0.4, 0.5] };
    const [onDev] = await source(score, dev, schema.tasks, { tune: false, thresholds, tunedOn });
    expect(onDev).toEqual(['topics', { kind: 'given', tunedOn: dev.file, optimistic: true }]);
    const [onTest] = await source(score, test, schema.tasks, { tune: false, thresholds, tunedOn });
    expect(onTest).toEqual(['topics', { kind: 'given', tunedOn: dev.file, optimistic: false }]);
    const [unknown] = await source(score, dev, schema.tasks, { tune: false, thresholds });
    expect(unknown).toEqual(['topics', { kind: 'given', tunedOn: null, optimistic: false }]);
    const [none] = await source(score, dev, schema.tasks, { tune: false, thresholds: {}, tunedOn });
    expect(none).toEqual(['topics', { kind: 'default', tunedOn: null, optimistic: false }]);
  });

  it('reads the fingerprint a model recorded, ignoring malformed ones', async () => {
    const tunedOn = await fingerprintFile(dev.file);
    expect(recordedFingerprint({ thresholdsTunedOn: tunedOn, epoch: 3 })).toEqual(tunedOn);
    expect(recordedFingerprint({ thresholdsTunedOn: 'dev.jsonl' })).toBeNull();
    expect(recordedFingerprint({})).toBeNull();
  });

  it('says so in the text report', async () => {
    const [tuned] = (await evaluateDataset(score, dev, schema.tasks, { tune: true })).reports;
    expect(reportText(tuned!)).toMatch(/\nthresholds: [\d., ]+ \(tuned on these same examples, so these multilabel scores are optimistic; held-out data gives unbiased ones\)$/);
    const tunedOn = await fingerprintFile(dev.file);
    const [again] = (await evaluateDataset(score, dev, schema.tasks, { tune: false, thresholds: { topics: [0.4, 0.5] }, tunedOn })).reports;
    expect(reportText(again!)).toContain(`(tuned at training on ${dev.file}, which is this same file, so these multilabel scores are optimistic`);
    const [held] = (await evaluateDataset(score, test, schema.tasks, { tune: false, thresholds: { topics: [0.4, 0.5] }, tunedOn })).reports;
    expect(reportText(held!)).toContain(`(tuned at training on ${dev.file}, not on this file)`);
    const [multiclass] = (await evaluateDataset(score, dev, [mood], { tune: true })).reports;
    expect(reportText(multiclass!)).not.toContain('thresholds');
  });
});
