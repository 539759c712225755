// Online teachers from a tiny trained run: the run, its best model and its fp32 export read alike; logits, hidden
// states and the cost helper; refusals for what is not a model and for hidden states of an export.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../../src/builder/builder.ts';
import { loadTeacher, type Teacher } from '../../../src/compress/distill/teacher.ts';
import { measureTeacherForward } from '../../../src/compress/distill/teacher-cost.ts';
import { tokenizerHash } from '../../../src/compress/distill/teacher-encoding.ts';
import { probabilitiesFromLogits } from '../../../src/compress/distill/teacher-logits.ts';
import { loadTeacherMap } from '../../../src/compress/distill/teacher-map.ts';
import { exportModel } from '../../../src/export/export.ts';
import { OnnxClassifier } from '../../../src/infer/onnx-classifier.ts';
import { encoderStates } from '../../../src/models/encoder.ts';
import { encoderInputs } from '../../../src/models/multitask.ts';
import { Session } from '../../../src/runtime/session.ts';
import { encodeIds, TextTokenizer } from '../../../src/tokenize/index.ts';
import { tokenFeeds } from '../../../src/train/feeds.ts';
import { makeSchema, type Task } from '../../../src/data/schema.ts';
import { loadModelDir, writeModelFiles } from '../../../src/train/model-dir.ts';
import { maxAbsDiff } from '../../export/fixtures.ts';
import { runFixture, type RunFixture, trainedRun } from '../../train/fixtures.ts';

let data: RunFixture;
let run: string;
let exported: string;
let texts: string[];
const opened: Teacher[] = [];

async function teacher(path: string, options: Parameters<typeof loadTeacher>[1] = {}): Promise<Teacher> {
  const t = await loadTeacher(path, { threads: 1, ...options });
  opened.push(t);
  return t;
}

const LONG = 'the service was great and the staff people were lovely and fine today but the price was awful and slow';

beforeAll(async () => {
  data = await runFixture(40, 12);
  run = await trainedRun(data, { layers: 2, epochs: 2, lr: 3e-3 });
  exported = join(data.dir, 'export');
  await exportModel(run, exported, { quantization: 'none', checkSample: 8, threads: 1, checkData: data.dev });
  texts = [...readFileSync(data.dev, 'utf8').trim().split('\n').slice(0, 7).map((l) => (JSON.parse(l) as { text: string }).text), LONG];
}, 120_000);

afterAll(async () => {
  for (const t of opened) await t.release();
});

/** Largest deviation of (a − b) from its own mean, per row of `width`: 0 when a and b differ by a constant per row. */
function rowShiftSpread(a: Float32Array, b: Float32Array, width: number): number {
  let worst = 0;
  for (let start = 0; start < a.length; start += width) {
    const diff = Array.from({ length: width }, (_, j) => (a[start + j] as number) - (b[start + j] as number));
    const mean = diff.reduce((s, d) => s + d, 0) / width;
    for (const d of diff) worst = Math.max(worst, Math.abs(d - mean));
  }
  return worst;
}

describe('loadTeacher', () => {
  it('reads a run (its best model), the model directory and the fp32 export, with the same tasks and tokenizer', async () => {
    const fromRun = await teacher(run);
    const fromModel = await teacher(join(run, 'best'));
    const fromExport = await teacher(exported);
    expect([fromRun.kind, fromModel.kind, fromExport.kind]).toEqual(['run', 'model', 'export']);
    expect(fromRun.dir).toBe(join(run, 'best'));
    for (const t of [fromRun, fromModel, fromExport]) {
      expect(t.tasks.map((task) => [task.name, task.type, task.labels])).toEqual([['sentiment', 'multiclass', ['negative', 'positive']], ['topics', 'multilabel', ['price', 'staff']]]);
      expect(t.tokenizerHash).toBe(fromRun.tokenizerHash);
      expect(t.maxLength).toBe(16);
    }
    expect(fromModel.fingerprint).toBe(fromRun.fingerprint);
    expect(fromExport.fingerprint).not.toBe(fromRun.fingerprint);
    expect(fromModel.encoder?.numHiddenLayers).toBe(2);
    expect(fromExport.encoder).toBeNull();
  });

  it('gives logits that agree: run = model exactly, the export\'s up to a constant per row (softmax) or equal (sigmoid)', async () => {
    const fromRun = await (await teacher(run)).logits(texts);
    const fromModel = await (await teacher(join(run, 'best'))).logits({ texts });
    const fromExport = await (await teacher(exported)).logits(texts);
    for (const task of ['sentiment', 'topics']) {
      expect(fromRun.get(task)).toEqual(fromModel.get(task));
      expect(fromExport.get(task)?.length).toBe(texts.length * 2);
    }
    const sentiment = fromModel.get('sentiment') as Float32Array;
    // Trained for two epochs, so the logits are not all alike: the per-row constant is something to recover.
    expect(rowShiftSpread(sentiment, new Float32Array(sentiment.length), 2)).toBeGreaterThan(1e-3);
    expect(rowShiftSpread(fromExport.get('sentiment') as Float32Array, sentiment, 2)).toBeLessThan(1e-4);
    expect(maxAbsDiff(fromExport.get('topics') as Float32Array, fromModel.get('topics') as Float32Array)).toBeLessThan(1e-4);
  });

  it('gives the model\'s own probabilities: softmax and sigmoid of its logits are what the export serves', async () => {
    const logits = await (await teacher(join(run, 'best'))).logits(texts);
    const classifier = await OnnxClassifier.load(exported, { threads: 1 });
    try {
      const probs = await classifier.probabilities((await classifier.encode(texts)).ids);
      expect(maxAbsDiff(probabilitiesFromLogits('multiclass', logits.get('sentiment') as Float32Array, 2), probs.get('sentiment') as Float32Array)).toBeLessThan(1e-5);
      expect(maxAbsDiff(probabilitiesFromLogits('multilabel', logits.get('topics') as Float32Array, 2), probs.get('topics') as Float32Array)).toBeLessThan(1e-5);
    } finally {
      await classifier.release();
    }
  });

  it('gives every layer\'s hidden states and attention projections, equal to encoderStates on the same ids', async () => {
    const t = await teacher(join(run, 'best'));
    const out = await t.forward(texts, { hiddenStates: true, projections: true });
    const model = await loadModelDir(join(run, 'best'));
    const g = new GraphBuilder('reference');
    const states = encoderStates(g, model.hf.encoder, encoderInputs(g), { training: false });
    states.hiddenStates.forEach((h, i) => g.output(`hidden${i}`, h));
    states.projections.forEach((p, i) => g.output(`key${i}`, p.key));
    const session = await Session.create(g.build(), { threads: 1 });
    try {
      const { ids } = await encodeIds(model.tokenizer, texts, model.meta.maxLength);
      expect(out.tokens.ids).toEqual(ids);
      const feeds = tokenFeeds({ ids, maxLength: model.meta.maxLength, truncated: 0 }, ids.map((_, i) => i), { padId: model.meta.padId, positions: model.meta.positions });
      const reference = await session.run(feeds, model.params);
      expect(out.seq).toBe(16);
      expect(out.hiddenStates).toHaveLength(3);
      out.hiddenStates?.forEach((h, i) => {
        expect(h.length).toBe(texts.length * 16 * 16);
        expect(maxAbsDiff(h, reference[`hidden${i}`]?.data as Float32Array), `hidden state ${i}`).toBeLessThan(1e-5);
      });
      expect(out.projections).toHaveLength(2);
      out.projections?.forEach((p, i) => expect(maxAbsDiff(p.key, reference[`key${i}`]?.data as Float32Array)).toBeLessThan(1e-5));
      expect((await t.forward(texts)).hiddenStates).toBeNull();
    } finally {
      await session.release();
    }
  });

  it('reads an int8 export: logits near the fp32 model\'s', async () => {
    const int8 = join(data.dir, 'export-int8');
    await exportModel(run, int8, { quantization: 'int8-per-channel', checkSample: 8, threads: 1, checkData: data.dev });
    const t = await teacher(int8);
    expect(t.kind).toBe('export');
    const quantized = await t.logits(texts);
    const reference = await (await teacher(join(run, 'best'))).logits(texts);
    expect(rowShiftSpread(quantized.get('sentiment') as Float32Array, reference.get('sentiment') as Float32Array, 2)).toBeLessThan(0.1);
    expect(maxAbsDiff(quantized.get('topics') as Float32Array, reference.get('topics') as Float32Array)).toBeLessThan(0.1);
  }, 60_000);

  it('takes a single-task export\'s own logits output as it is (no constant to recover)', async () => {
    const model = await loadModelDir(join(run, 'best'));
    const [sentiment] = model.schema.tasks;
    const single = join(data.dir, 'single');
    const params = new Map([...model.params].filter(([name]) => !name.startsWith('heads.topics.')));
    await writeModelFiles(single, { ...model, params, schema: makeSchema([sentiment as Task], { kind: 'file', file: 'tasks.json' }) });
    const singleExport = join(data.dir, 'single-export');
    await exportModel(single, singleExport, { quantization: 'none', checkSample: 8, threads: 1 });
    const fromExport = await (await teacher(singleExport)).logits(texts);
    const fromModel = await (await teacher(single)).logits(texts);
    expect([...fromExport.keys()]).toEqual(['sentiment']);
    expect(maxAbsDiff(fromExport.get('sentiment') as Float32Array, fromModel.get('sentiment') as Float32Array)).toBeLessThan(1e-5);
    expect(maxAbsDiff(fromModel.get('sentiment') as Float32Array, (await (await teacher(run)).logits(texts)).get('sentiment') as Float32Array)).toBeLessThan(1e-6);
  }, 60_000);

  it('refuses hidden states of an export, saying that exports give logits only', async () => {
    const t = await teacher(exported);
    await expect(t.forward(texts, { hiddenStates: true })).rejects.toMatchObject({ code: 'TEACHER_NO_STATES', where: { file: exported } });
  });

  it('refuses a path that is not a model, naming the flag', async () => {
    const plain = join(data.dir, 'plain');
    mkdirSync(plain);
    writeFileSync(join(plain, 'notes.txt'), 'not a model');
    await expect(loadTeacher(plain, { flag: '--teacher-model sentiment=plain' })).rejects.toMatchObject({ code: 'NOT_A_MODEL', where: { file: plain, field: '--teacher-model sentiment=plain' } });
    await expect(loadTeacher(join(data.dir, 'missing'))).rejects.toMatchObject({ code: 'FILE_NOT_FOUND', where: { field: '--teacher-model' } });
  });
});

describe('encoding', () => {
  it('takes the student\'s ids where they are its own encoding, and encodes the others itself', async () => {
    const t = await teacher(join(run, 'best'));
    const own = await t.forward(texts);
    const same = await encodeIds(t.tokenizer, texts, 16);
    const reused = await t.forward({ texts, student: { ids: same.ids, tokenizerHash: t.tokenizerHash, maxLength: 16 } });
    expect(reused.tokens).toMatchObject({ fromStudent: texts.length, sameAsStudent: true });
    expect(reused.logits).toEqual(own.logits);
    // The student cuts at 8: its cut rows are not the teacher's reading (it reads 16), its short rows are.
    const short = await encodeIds(t.tokenizer, texts, 8);
    const mixed = await t.forward({ texts, student: { ids: short.ids, tokenizerHash: t.tokenizerHash, maxLength: 8 } });
    expect(mixed.tokens.fromStudent).toBe(short.ids.filter((row) => row.length < 8).length);
    expect(mixed.tokens.fromStudent).toBeLessThan(texts.length);
    expect(mixed.tokens.sameAsStudent).toBe(false);
    expect(mixed.logits).toEqual(own.logits);
    // A teacher told to cut at the student's length reads the student's ids whole, and is another teacher for the cache.
    const cut = await teacher(join(run, 'best'), { maxLength: 8 });
    expect((await cut.forward({ texts, student: { ids: short.ids, tokenizerHash: t.tokenizerHash, maxLength: 8 } })).tokens).toMatchObject({ fromStudent: texts.length, sameAsStudent: true });
    expect(cut.fingerprint).not.toBe(t.fingerprint);
  });

  it('gives a student with another tokenizer the teacher\'s own encoding of each text', async () => {
    const t = await teacher(exported);
    // Another vocabulary order: the student's ids for the same texts are other numbers.
    const json = JSON.parse(readFileSync(data.tokenizer, 'utf8')) as { model: { vocab: Record<string, number> } };
    const tokens = Object.keys(json.model.vocab);
    const reordered = [...tokens.slice(0, 5), ...tokens.slice(5).reverse()];
    json.model.vocab = Object.fromEntries(reordered.map((tok, id) => [tok, id]));
    const studentPath = join(data.dir, 'student-tokenizer.json');
    writeFileSync(studentPath, JSON.stringify(json));
    const student = TextTokenizer.fromFile(studentPath);
    const studentIds = (await encodeIds(student, texts, 16)).ids;
    expect(studentIds).not.toEqual((await encodeIds(t.tokenizer, texts, 16)).ids);
    const out = await t.forward({ texts, student: { ids: studentIds, tokenizerHash: tokenizerHash(student), maxLength: 16 } });
    expect(out.tokens).toMatchObject({ fromStudent: 0, sameAsStudent: false });
    expect(out.tokens.ids).toEqual((await encodeIds(t.tokenizer, texts, 16)).ids);
    expect(out.logits).toEqual((await t.forward(texts)).logits);
  });
});

describe('teacher maps and cost on real teachers', () => {
  it('loads each teacher once and averages the teachers of a task', async () => {
    const student = (await teacher(run)).tasks;
    const map = await loadTeacherMap([run, `sentiment=${join(run, 'best')}`, `topics,sentiment=${exported}`], student, { threads: 1 });
    try {
      expect(map.teachers.map((t) => t.kind)).toEqual(['run', 'export']);
      expect(map.byTask.get('sentiment')).toHaveLength(2);
      const logits = await map.logits(texts);
      const [a, b] = await Promise.all(map.teachers.map((t) => t.logits(texts)));
      const mean = (a?.get('topics') as Float32Array).map((v, i) => (v + ((b?.get('topics') as Float32Array)[i] as number)) / 2);
      expect(maxAbsDiff(logits.get('topics') as Float32Array, mean)).toBeLessThan(1e-6);
    } finally {
      await map.release();
    }
  });

  it('measures the teacher\'s forward time per batch', async () => {
    const cost = await measureTeacherForward(await teacher(join(run, 'best')), [...texts, ...texts], { batchSize: 5 });
    expect(cost).toMatchObject({ texts: 16, batchSize: 5, batches: 4 });
    expect(Number.isFinite(cost.meanMs) && cost.maxMs >= cost.medianMs && cost.totalMs >= cost.maxMs).toBe(true);
  });
});
