// The service on the real runtime: the exported two-task fixture served through onnxModelLoader, answering
// exactly what OnnxClassifier answers directly, batched or not, and reloading it in place.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OnnxClassifier } from '../../src/infer/onnx-classifier.ts';
import type { TextPrediction } from '../../src/infer/types.ts';
import { buildApp, type ServeApp } from '../../src/serve/app.ts';
import { onnxModelLoader } from '../../src/serve/model-loader.ts';
import { exportedModel, type ExportedFixture } from '../infer/exported-model.ts';

let fx: ExportedFixture;
let service: ServeApp;
let direct: OnnxClassifier;
let texts: string[];
beforeAll(async () => {
  fx = await exportedModel();
  direct = await OnnxClassifier.load(fx.dir, { threads: 1, batchSize: 4 });
  texts = readFileSync(fx.data.dev, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { text: string }).text);
  service = await buildApp({
    dir: fx.dir,
    loadModel: onnxModelLoader({ threads: 1, batchSize: 4 }),
    limits: { maxTexts: 64, maxChars: 2000, onLongText: 'truncate', bodyLimit: 1 << 20 },
    batching: { maxBatchSize: 4, maxWaitMs: 0, maxQueue: 256 },
  });
  await service.start();
}, 60_000);

afterAll(async () => {
  await service?.app.close();
  await direct?.release();
});

interface ClassifyAnswer { model: string; results: TextPrediction[] }

async function classify(body: { texts: string[]; tasks?: string[] }): Promise<ClassifyAnswer> {
  const response = await service.app.inject({ method: 'POST', url: '/v1/classify', payload: body });
  expect(response.statusCode).toBe(200);
  return response.json();
}

describe('xlmt serve on an exported model', () => {
  it('describes the model: name, a digest version, tasks and thresholds', async () => {
    const response = (await service.app.inject({ method: 'GET', url: '/v1/model' })).json() as { model: { name: string; version: string }; maxLength: number; tasks: unknown[] };
    expect(response.model.name).toBe('export');
    expect(response.model.version).toMatch(/^[0-9a-f]{12}$/);
    expect(response.maxLength).toBe(direct.maxLength);
    expect(response.tasks).toEqual(JSON.parse(JSON.stringify(direct.tasks)));
  });

  it('answers what the classifier answers, for all tasks or some', async () => {
    const sample = texts.slice(0, 10);
    const expected = await direct.classify(sample);
    const served = await classify({ texts: sample });
    expect(served.results).toEqual(JSON.parse(JSON.stringify(expected)));
    const topics = await classify({ texts: sample, tasks: ['topics'] });
    expect(topics.results.map((r) => Object.keys(r.tasks))).toEqual(sample.map(() => ['topics']));
    expect(topics.results.map((r) => r.tasks.topics)).toEqual(served.results.map((r) => r.tasks.topics));
  });

  it('gives concurrent requests the predictions they get alone', async () => {
    const sample = texts.slice(0, 24);
    const expected = JSON.parse(JSON.stringify(await direct.classify(sample))) as TextPrediction[];
    const answers = await Promise.all(sample.map((text) => classify({ texts: [text] })));
    answers.forEach((a, i) => {
      const [result] = a.results;
      const want = expected[i];
      expect(Object.keys(result?.tasks ?? {})).toEqual(['sentiment', 'topics']);
      expect(result?.truncated).toBe(want?.truncated);
      // Padding to another batch's length moves scores in the last float digits only.
      for (const task of ['sentiment', 'topics']) {
        const got = result?.tasks[task];
        const ref = want?.tasks[task];
        for (const [label, score] of Object.entries(ref?.scores ?? {})) expect(got?.scores[label]).toBeCloseTo(score, 5);
      }
    });
    const metrics = (await service.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/xlmt_texts_processed_total \d+/);
  });

  it('flags texts cut to the model\'s maximum length', async () => {
    const long = Array.from({ length: 40 }, () => 'great').join(' ');
    const served = await classify({ texts: [long, 'great'] });
    expect(served.results.map((r) => r.truncated)).toEqual([true, false]);
  });

  it('reloads the same directory: same version, old session released, still answering', async () => {
    const before = await classify({ texts: texts.slice(0, 3) });
    const pending = Promise.all(texts.slice(0, 12).map((text) => classify({ texts: [text] })));
    const reload = await service.app.inject({ method: 'POST', url: '/admin/reload' });
    expect(reload.statusCode).toBe(200);
    const { previous, current } = reload.json() as { previous: { version: string }; current: { version: string } };
    expect(current.version).toBe(previous.version);
    expect((await pending).every((a) => a.results.length === 1)).toBe(true);
    expect((await classify({ texts: texts.slice(0, 3) })).results).toEqual(before.results);
  });
});
