// xlmt train --qat: quantization-aware training from a trained fp32 model, with and without online teachers. The
// losses are finite and not the fp32 run's; the 'ema' ranges move with the steps, land in checkpoints and in best/;
// the 'lsq' steps start from calibration batches and leave best/'s weights; a killed run resumes to the unbroken
// one's weights and ranges; dev scores the fake-quantized model; refusals write nothing.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readSafetensors } from '../../src/checkpoint/index.ts';
import { runOnlineDistillation } from '../../src/compress/distill/online-run.ts';
import { inputScaleName } from '../../src/compress/quantize/index.ts';
import { chooseWeightBits, readCpuFlags } from '../../src/export/cpu-features.ts';
import { readModelMeta } from '../../src/model-dir/index.ts';
import { parseTrainConfig, type TrainConfig } from '../../src/train/config.ts';
import { qatLayers } from '../../src/train/differentiate.ts';
import { encodeExamples } from '../../src/train/examples.ts';
import { evaluateDataset } from '../../src/train/evaluate.ts';
import { loadModelDir, type TrainedModel } from '../../src/train/model-dir.ts';
import { Predictor, type PredictorOptions } from '../../src/train/predict.ts';
import { runTraining, type RunEvents } from '../../src/train/run.ts';
import { setupRun } from '../../src/train/setup.ts';
import { loadDataset } from '../../src/data/index.ts';
import { runXlmt } from '../helpers/cli.ts';
import { runFixture, type RunFixture } from './fixtures.ts';

let data: RunFixture;
/** best/ of an fp32 run: where every QAT run starts. */
let init: string;

/** One encoder layer: its four activation quantizers (query, key and value share one). */
const LAYERS = [
  'encoder.layer.0.attention.self.query', 'encoder.layer.0.attention.output.dense', 'encoder.layer.0.intermediate.dense', 'encoder.layer.0.output.dense',
];

function config(name: string, overrides: Record<string, unknown> = {}): TrainConfig {
  return parseTrainConfig({
    train: data.train, dev: data.dev, tasks: data.tasks, init, out: join(data.dir, name),
    maxLength: 16, batchSize: 8, epochs: 2, lr: 1e-3, patience: 0, threads: 1, groupWindow: 0, ...overrides,
  }, 'test');
}

interface Recorded {
  readonly events: RunEvents;
  readonly lines: string[];
  readonly losses: number[];
  /** checkpoints/last/objective.json as each step began (checkpointEvery 1: the state after the step before). */
  readonly states: string[];
}

function recorder(out: string, stopAtStep?: number): Recorded {
  const lines: string[] = [];
  const losses: number[] = [];
  const states: string[] = [];
  const stateFile = join(out, 'checkpoints', 'last', 'objective.json');
  const events: RunEvents = {
    log: (line) => lines.push(line),
    onStep: (e) => {
      losses.push(e.loss);
      if (existsSync(stateFile)) states.push(readFileSync(stateFile, 'utf8'));
      if (e.step === stopAtStep) throw new Error('killed');
    },
  };
  return { events, lines, losses, states };
}

async function checkpoint(out: string): Promise<Map<string, Uint8Array>> {
  const file = await readSafetensors(join(out, 'checkpoints', 'last', 'params.safetensors'));
  return new Map([...file.tensors].map(([name, t]) => [name, t.bytes]));
}

async function checkpointFloats(out: string): Promise<Map<string, Float32Array>> {
  const bytes = await checkpoint(out);
  return new Map([...bytes].map(([name, b]) => [name, new Float32Array(b.slice().buffer)]));
}

const objectiveState = (out: string): { qat: { activations: string; inputRanges: Record<string, number> } } =>
  JSON.parse(readFileSync(join(out, 'checkpoints', 'last', 'objective.json'), 'utf8')) as { qat: { activations: string; inputRanges: Record<string, number> } };

/** Every file of a directory tree with its bytes, to tell that nothing was written. */
function snapshot(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) {
      const path = join(entry.parentPath, entry.name);
      files.set(path, readFileSync(path).toString('base64'));
    }
  }
  return files;
}

/** Dev mean macro-F1 and the multilabel thresholds tuned there, as a run scores a model, fp32 or fake-quantized. */
async function devScore(model: TrainedModel, quantized?: PredictorOptions['quantized']): Promise<{ score: number; thresholds: Record<string, number[]> }> {
  const dev = await loadDataset(data.dev, { schema: model.schema });
  const encoded = await encodeExamples(model.tokenizer, dev, 16);
  const predictor = await Predictor.create(model.hf.encoder, model.schema.tasks, {
    padId: model.meta.padId, positions: model.meta.positions, pooling: model.meta.pooling, headStyle: model.meta.headStyle, threads: 1, batchSize: 64,
    ...(quantized ? { quantized } : {}),
  });
  try {
    const e = await evaluateDataset((indices) => predictor.predict(encoded, indices, model.params), dev, model.schema.tasks, { tune: true });
    return { score: e.summary.meanMacroF1, thresholds: e.thresholds };
  } finally {
    await predictor.release();
  }
}

beforeAll(async () => {
  data = await runFixture(120, 40);
  const fp32 = join(data.dir, 'fp32');
  await runTraining(parseTrainConfig({
    train: data.train, dev: data.dev, tasks: data.tasks, tokenizer: data.tokenizer, out: fp32,
    encoder: { layers: 1, hidden: 16, heads: 2, ffn: 32, maxPositions: 40 },
    maxLength: 16, batchSize: 8, epochs: 4, lr: 3e-3, patience: 0, threads: 1, groupWindow: 0,
  }, 'test'), { log: () => {} });
  init = join(fp32, 'best');
}, 120_000);

describe('xlmt train --qat ema', () => {
  it('trains with finite losses unlike the fp32 run\'s, moves the ranges each step, and writes them to best/', async () => {
    const plain = recorder(join(data.dir, 'plain'));
    await runTraining(config('plain'), plain.events);
    const qat = recorder(join(data.dir, 'ema'));
    await runTraining(config('ema', { qat: 'ema', checkpointEvery: 1 }), qat.events);

    expect(qat.lines.some((l) => l.startsWith(`quantization-aware training: fake int8 on the encoder's 6 dense layers (${chooseWeightBits(readCpuFlags()).bits}-bit weights), 4 activation quantizers`))).toBe(true);
    expect(qat.losses.length).toBe(plain.losses.length);
    expect(qat.losses.every(Number.isFinite)).toBe(true);
    expect(qat.losses).not.toEqual(plain.losses);
    // Fake int8 on a trained model nudges the loss; it does not upset it.
    const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(Math.abs(mean(qat.losses) - mean(plain.losses))).toBeLessThan(0.1 * mean(plain.losses));

    const ranges = qat.states.map((s) => JSON.parse(s) as { qat: { inputRanges: Record<string, number> } });
    expect(ranges.length).toBe(qat.losses.length - 1);
    expect(Object.keys(ranges[0]?.qat.inputRanges ?? {}).sort()).toEqual([...LAYERS].sort());
    for (const layer of LAYERS) expect(new Set(ranges.map((r) => r.qat.inputRanges[layer])).size).toBeGreaterThan(ranges.length / 2);

    const meta = await readModelMeta(join(data.dir, 'ema', 'best'));
    expect(meta.quantization).toMatchObject({ method: 'qat', activations: 'ema', wordEmbeddings: false });
    const saved = meta.quantization?.inputRanges ?? {};
    expect(Object.keys(saved).sort()).toEqual([...LAYERS].sort());
    for (const layer of LAYERS) expect(saved[layer]).toBeGreaterThan(0);
    // The last epoch is the best or not; either way best/ holds the ranges of some checkpoint of the run.
    const seen = [...ranges.map((r) => r.qat.inputRanges), objectiveState(join(data.dir, 'ema')).qat.inputRanges];
    expect(seen.some((r) => LAYERS.every((l) => r[l] === saved[l]))).toBe(true);
    // best/ is a plain checkpoint that loads as any model; its dev score is the fake-quantized model's, with its ranges.
    const best = await loadModelDir(join(data.dir, 'ema', 'best'));
    const feeds = (): Record<string, { dtype: 'float32'; shape: number[]; data: Float32Array }> =>
      Object.fromEntries(LAYERS.map((l) => [`${l}.input_range`, { dtype: 'float32' as const, shape: [], data: Float32Array.of(saved[l] as number) }]));
    // The tuned thresholds tell the two apart where the coarse macro-F1 of a tiny dev set may not.
    const quantized = await devScore(best, { options: { activations: 'ema', layers: qatLayers, weightBits: best.meta.quantization?.weightBits ?? expect.fail('no weightBits recorded') }, ranges: feeds });
    expect(quantized).toEqual({ score: best.meta.info.devMeanMacroF1, thresholds: best.meta.thresholds });
    expect((await devScore(best)).thresholds).not.toEqual(best.meta.thresholds);
    const plainMeta = await readModelMeta(join(data.dir, 'plain', 'best'));
    expect(plainMeta.quantization).toBeUndefined();
  }, 120_000);

  it('resumes a killed run to the unbroken run\'s weights and ranges', async () => {
    const unbroken = config('ema-unbroken', { qat: 'ema', checkpointEvery: 4 });
    await runTraining(unbroken, recorder(unbroken.out).events);
    const killed = config('ema-killed', { qat: 'ema', checkpointEvery: 4 });
    await expect(runTraining(killed, recorder(killed.out, 10).events)).rejects.toThrow('killed');
    const resumed = recorder(killed.out);
    await runTraining(killed, resumed.events);
    expect(resumed.lines.some((l) => l.startsWith(`resuming ${killed.out} at epoch 1, step 8`))).toBe(true);
    expect(await checkpoint(killed.out)).toEqual(await checkpoint(unbroken.out));
    expect(objectiveState(killed.out)).toEqual(objectiveState(unbroken.out));
    expect((await readModelMeta(join(killed.out, 'best'))).quantization).toEqual((await readModelMeta(join(unbroken.out, 'best'))).quantization);
    expect(readFileSync(join(killed.out, 'metrics.jsonl'), 'utf8')).toBe(readFileSync(join(unbroken.out, 'metrics.jsonl'), 'utf8'));
  }, 120_000);

  it('refuses to resume with other QAT settings, or none, and writes nothing', async () => {
    const killed = config('ema-refused', { qat: 'ema' });
    await expect(runTraining(killed, recorder(killed.out, 25).events)).rejects.toThrow('killed');
    const before = snapshot(killed.out);
    const refused = { code: 'RUN_SETTINGS_CHANGED', where: { file: killed.out } };
    const qat = killed.qat ?? expect.fail('a QAT config');
    await expect(runTraining({ ...killed, qat: { ...qat, activations: 'lsq' } }, recorder(killed.out).events)).rejects.toMatchObject(refused);
    await expect(runTraining({ ...killed, qat: { ...qat, wordEmbeddings: true } }, recorder(killed.out).events)).rejects.toMatchObject(refused);
    await expect(runTraining({ ...killed, qat: { ...qat, weightBits: qat.weightBits === 8 ? 7 : 8 } }, recorder(killed.out).events)).rejects.toMatchObject(refused);
    await expect(runTraining({ ...killed, qat: undefined }, recorder(killed.out).events)).rejects.toMatchObject(refused);
    expect(snapshot(killed.out)).toEqual(before);
  }, 120_000);
});

describe('xlmt train --qat lsq', () => {
  it('starts the steps from calibration batches, trains them as parameters, and keeps them out of best/\'s weights', async () => {
    const fresh = await setupRun(config('lsq-setup', { qat: 'lsq' }), () => {});
    const randomSteps = new Map(LAYERS.map((l) => [l, fresh.params.get(inputScaleName(l))?.data[0]]));
    expect(fresh.training.gradients.has(inputScaleName(LAYERS[0] as string))).toBe(true);

    const run = config('lsq', { qat: 'lsq', epochs: 1 });
    const recorded = recorder(run.out);
    await runTraining(run, recorded.events);
    expect(recorded.lines.some((l) => l.startsWith('learned input steps set from max|x| over 8 training batches'))).toBe(true);
    expect(recorded.losses.every(Number.isFinite)).toBe(true);
    const steps = await checkpointFloats(run.out);
    for (const layer of LAYERS) {
      const s = steps.get(inputScaleName(layer))?.[0] as number;
      expect(s).toBeGreaterThan(0);
      expect(s).not.toBe(randomSteps.get(layer));
    }
    // With a learning rate of ~0 the steps stay where calibration put them: max|x|/127, near the first observed
    // range of the 'ema' run (its first batch, dropout on), far from initParams' values.
    const still = config('lsq-still', { qat: 'lsq', epochs: 1, lr: 1e-12 });
    await runTraining(still, recorder(still.out).events);
    const calibrated = await checkpointFloats(still.out);
    const reference = config('lsq-ema-reference', { qat: 'ema', epochs: 1, checkpointEvery: 1 });
    const observed = recorder(reference.out);
    await runTraining(reference, observed.events);
    const ema = (JSON.parse(observed.states[0] as string) as { qat: { inputRanges: Record<string, number> } }).qat.inputRanges;
    for (const layer of LAYERS) {
      const s = calibrated.get(inputScaleName(layer))?.[0] as number;
      expect(Math.abs(s - (randomSteps.get(layer) as number))).toBeGreaterThan(1e-3);
      expect(127 * s / (ema[layer] as number)).toBeGreaterThan(0.5);
      expect(127 * s / (ema[layer] as number)).toBeLessThan(2);
    }
    const weights = await readSafetensors(join(run.out, 'best', 'model.safetensors'));
    expect([...weights.tensors.keys()].some((n) => n.endsWith('.input_scale'))).toBe(false);
    const meta = await readModelMeta(join(run.out, 'best'));
    expect(meta.quantization).toMatchObject({ method: 'qat', activations: 'lsq', wordEmbeddings: false });
    // One epoch: best/ is the last checkpoint's model, its ranges 127·s of the learned steps.
    for (const layer of LAYERS) expect(meta.quantization?.inputRanges[layer]).toBeCloseTo(127 * (steps.get(inputScaleName(layer))?.[0] as number), 4);
    expect(existsSync(join(run.out, 'checkpoints', 'last', 'objective.json'))).toBe(false);
  }, 120_000);

  it('resumes a killed run to the unbroken run\'s weights and steps', async () => {
    const unbroken = config('lsq-unbroken', { qat: 'lsq', checkpointEvery: 4 });
    await runTraining(unbroken, recorder(unbroken.out).events);
    const killed = config('lsq-killed', { qat: 'lsq', checkpointEvery: 4 });
    await expect(runTraining(killed, recorder(killed.out, 18).events)).rejects.toThrow('killed');
    const resumed = recorder(killed.out);
    await runTraining(killed, resumed.events);
    // No second calibration: the steps come from the checkpoint.
    expect(resumed.lines.some((l) => l.startsWith('learned input steps'))).toBe(false);
    expect(await checkpoint(killed.out)).toEqual(await checkpoint(unbroken.out));
  }, 120_000);
});

describe('xlmt train --qat with online teachers', () => {
  it('distils through the fake-quantized student, with --trainable freezing the model but not the steps', async () => {
    const teacher = join(data.dir, 'fp32');
    const plain = recorder(join(data.dir, 'online-plain'));
    await runOnlineDistillation(config('online-plain', { teacherModel: teacher }), plain.events);
    const qat = recorder(join(data.dir, 'online-ema'));
    await runOnlineDistillation(config('online-ema', { teacherModel: teacher, qat: 'ema' }), qat.events);
    expect(qat.losses.every(Number.isFinite)).toBe(true);
    expect(qat.losses).not.toEqual(plain.losses);
    expect(Object.keys(objectiveState(join(data.dir, 'online-ema')).qat.inputRanges).sort()).toEqual([...LAYERS].sort());
    expect((await readModelMeta(join(data.dir, 'online-ema', 'best'))).quantization?.activations).toBe('ema');

    const frozen = config('online-lsq-heads', { teacherModel: teacher, qat: 'lsq', trainable: ['heads.*'], epochs: 1 });
    const start = await setupRun(frozen, () => {});
    await runOnlineDistillation(frozen, recorder(frozen.out).events);
    const trained = await checkpointFloats(frozen.out);
    const initial = await loadModelDir(init);
    const query = 'encoder.layer.0.attention.self.query.weight';
    expect(trained.get(query)).toEqual(initial.params.get(query)?.data);
    expect(start.training.gradients.has(inputScaleName(LAYERS[0] as string))).toBe(true);
    expect([...start.training.gradients.keys()].every((n) => n.startsWith('heads.') || n.endsWith('.input_scale'))).toBe(true);
    const meta = await readModelMeta(join(frozen.out, 'best'));
    expect(meta.quantization?.activations).toBe('lsq');
  }, 180_000);
});

describe('dev evaluation of a QAT run', () => {
  it('scores the fake-quantized model with the ranges of the moment', async () => {
    const model = await loadModelDir(init);
    const dev = await loadDataset(data.dev, { schema: model.schema });
    const encoded = await encodeExamples(model.tokenizer, dev, 16);
    const options = { padId: model.meta.padId, positions: model.meta.positions, pooling: model.meta.pooling, headStyle: model.meta.headStyle, threads: 1, batchSize: 16 };
    const rows = dev.examples.map((_, i) => i);
    const fp32 = await Predictor.create(model.hf.encoder, model.schema.tasks, options);
    let range = 0;
    const ranges = (): Record<string, { dtype: 'float32'; shape: number[]; data: Float32Array }> =>
      Object.fromEntries(LAYERS.map((l) => [`${l}.input_range`, { dtype: 'float32' as const, shape: [], data: Float32Array.of(range) }]));
    const quantized = await Predictor.create(model.hf.encoder, model.schema.tasks, { ...options, quantized: { options: { activations: 'ema', layers: qatLayers }, ranges } });
    try {
      const exact = await fp32.predict(encoded, rows, model.params);
      const own = await quantized.predict(encoded, rows, model.params); // range 0: each batch's own max|x|
      range = 0.5; // clips every activation to ±0.5
      const clipped = await quantized.predict(encoded, rows, model.params);
      for (const task of model.schema.tasks) {
        const a = exact.get(task.name) as Float32Array;
        const b = own.get(task.name) as Float32Array;
        const c = clipped.get(task.name) as Float32Array;
        const gap = (x: Float32Array, y: Float32Array): number => Math.max(...x.map((v, i) => Math.abs(v - (y[i] as number))));
        expect(gap(a, b)).toBeGreaterThan(0);
        expect(gap(a, b)).toBeLessThan(0.05);
        expect(gap(b, c)).toBeGreaterThan(gap(a, b));
      }
    } finally {
      await fp32.release();
      await quantized.release();
    }
  }, 60_000);
});

describe('QAT settings', () => {
  it('refuses a run without --init, naming the flag, and an unknown mode', () => {
    const base = { train: data.train, tokenizer: data.tokenizer, out: join(data.dir, 'never') };
    expect(() => parseTrainConfig({ ...base, qat: 'ema' }, 'test')).toThrow(/--init/);
    expect(() => parseTrainConfig({ ...base, init, qat: 'int4' }, 'test')).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }) as Error);
    expect(() => parseTrainConfig({ ...base, init, qat: { activations: 'ema', layers: 'all' } }, 'test')).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }) as Error);
    // The weights' grid defaults to the one this CPU's int8 kernels compute exactly (7 bits without VNNI).
    const bits = chooseWeightBits(readCpuFlags()).bits;
    expect(parseTrainConfig({ ...base, init, qat: 'lsq' }, 'test').qat).toEqual({ activations: 'lsq', wordEmbeddings: false, weightBits: bits });
    // No mode (the bare flag, true in a file, or an object without one): the default, ema.
    expect(parseTrainConfig({ ...base, init, qat: true }, 'test').qat).toEqual({ activations: 'ema', wordEmbeddings: false, weightBits: bits });
    expect(parseTrainConfig({ ...base, init, qat: { wordEmbeddings: true } }, 'test').qat).toEqual({ activations: 'ema', wordEmbeddings: true, weightBits: bits });
    expect(parseTrainConfig({ ...base, init, qat: { weightBits: 7 } }, 'test').qat).toEqual({ activations: 'ema', wordEmbeddings: false, weightBits: 7 });
    expect(() => parseTrainConfig({ ...base, init, qat: { weightBits: 4 } }, 'test')).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }) as Error);
    expect(() => parseTrainConfig({ ...base, init, qat: false }, 'test')).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }) as Error);
    expect(existsSync(base.out)).toBe(false);
  });

  it('is taken on the command line: --qat alone trains with ema, --qat without --init is refused and writes nothing', () => {
    const common = ['train', '--train', data.train, '--dev', data.dev, '--tasks', data.tasks, '--max-length', '16', '--batch-size', '8', '--epochs', '1', '--threads', '1', '--quiet'];
    const refusedOut = join(data.dir, 'cli-refused');
    const refused = runXlmt([...common, '--tokenizer', data.tokenizer, '--qat', 'ema', '--out', refusedOut]);
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain('--init');
    expect(existsSync(refusedOut)).toBe(false);
    const badMode = runXlmt([...common, '--init', init, '--qat', 'int4', '--out', refusedOut]);
    expect(badMode.status).not.toBe(0);
    expect(badMode.stderr).toContain('--qat');
    expect(existsSync(refusedOut)).toBe(false);
    const bitsAlone = runXlmt([...common, '--init', init, '--qat-weight-bits', '7', '--out', refusedOut]);
    expect(bitsAlone.status).not.toBe(0);
    expect(bitsAlone.stderr).toContain('--qat-weight-bits');
    expect(existsSync(refusedOut)).toBe(false);

    const out = join(data.dir, 'cli-ema');
    const trained = runXlmt([...common, '--init', init, '--qat', '--qat-weight-bits', '7', '--out', out]);
    expect(trained.status, trained.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'))).toMatchObject({ qat: { activations: 'ema', wordEmbeddings: false, weightBits: 7 } });
    expect(JSON.parse(readFileSync(join(out, 'best', 'xlmt.json'), 'utf8'))).toMatchObject({ quantization: { method: 'qat', activations: 'ema', weightBits: 7 } });
  }, 120_000);
});
