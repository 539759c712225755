// xlmt pretrain end to end on a tiny corpus: run directory, learning, the model directory xlmt train takes, exact
// resume after a crash or a kill, refusals and error messages.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/builder/index.ts';
import { loadHfModel, mapCheckpoint, readSafetensors } from '../../src/checkpoint/index.ts';
import { multiTaskClassifier } from '../../src/models/multitask.ts';
import { resolvePretrainConfig } from '../../src/cli/pretrain.ts';
import { parsePretrainConfig, PRETRAIN_SHAPE, type PretrainConfig } from '../../src/pretrain/config.ts';
import { runPretraining, type PretrainEvents } from '../../src/pretrain/run.ts';
import { trainTokenizer } from '../../src/tokenize/index.ts';
import { parseTrainConfig } from '../../src/train/config.ts';
import { resolveShape } from '../../src/train/encoder-shape.ts';
import { runTraining } from '../../src/train/run.ts';
import { runFixture, type RunFixture } from '../train/fixtures.ts';

let fixture: RunFixture;
beforeAll(async () => {
  fixture = await runFixture(); // 120 short texts in two languages, a WordPiece tokenizer (BERT layout)
});
afterAll(() => rmSync(fixture.dir, { recursive: true, force: true }));

/** 12 of the 120 texts held out: 108 train, 14 batches of 8 an epoch. */
function config(out: string, overrides: Record<string, unknown> = {}): PretrainConfig {
  return parsePretrainConfig({
    corpus: [fixture.train], tokenizer: fixture.tokenizer, out: join(fixture.dir, out),
    encoder: { layers: 1, hidden: 32, heads: 2, ffn: 64, maxPositions: 40 },
    maxLength: 16, batchSize: 8, epochs: 3, lr: 3e-3, evalLines: 12, checkpointEvery: 5, threads: 1,
    ...overrides,
  }, 'test');
}

const quiet: PretrainEvents = { log: () => {} };

interface Metric { type: string; step: number; loss: number; accuracy: number; tokensPerSec?: number }

function metrics(out: string): Metric[] {
  return readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Metric);
}

async function finalParams(out: string): Promise<Map<string, Uint8Array>> {
  const file = await readSafetensors(join(out, 'checkpoints', 'last', 'params.safetensors'));
  return new Map([...file.tensors].map(([name, t]) => [name, t.bytes]));
}

function expectSameParams(a: Map<string, Uint8Array>, b: Map<string, Uint8Array>): void {
  expect([...b.keys()]).toEqual([...a.keys()]);
  for (const [name, bytes] of a) expect(Buffer.compare(Buffer.from(bytes), Buffer.from(b.get(name) ?? new Uint8Array())), name).toBe(0);
}

/** Metrics without the timing, which differs from run to run. */
const untimed = (out: string): Metric[] => metrics(out).map(({ tokensPerSec: _t, ...m }) => m);

describe('xlmt pretrain', () => {
  it('writes the run directory, learns, and leaves a model directory that xlmt train --init takes', async () => {
    const c = config('plain', { epochs: 10, lr: 1e-2, checkpointEvery: 35, groupWindow: 0 });
    const result = await runPretraining(c, quiet);
    expect(result.steps).toBe(10 * 14);
    for (const file of ['config.json', 'metrics.jsonl', 'checkpoints/last/params.safetensors', 'checkpoints/last/progress.json', 'model/model.safetensors', 'model/config.json', 'model/tokenizer.json']) {
      expect(existsSync(join(c.out, file)), file).toBe(true);
    }
    expect(JSON.parse(readFileSync(join(c.out, 'config.json'), 'utf8'))).toEqual(c);

    const lines = metrics(c.out);
    const train = lines.filter((m) => m.type === 'train');
    const evals = lines.filter((m) => m.type === 'eval');
    expect(train.map((m) => m.step)).toEqual([35, 70, 105, 140]);
    expect(evals.map((m) => m.step)).toEqual([0, 35, 70, 105, 140]); // before training, then at each checkpoint
    for (const m of train) expect(m.tokensPerSec).toBeGreaterThan(0);
    // From ≈ ln 120 (uniform over the vocabulary) to what a few dozen words drawn at random allow (≈ 2.6 when run):
    // a masked filler or sentiment word is one of about six.
    expect(evals[0]?.loss).toBeGreaterThan(0.9 * Math.log(120));
    expect(evals.at(-1)?.loss).toBeLessThan(0.8 * (evals[0]?.loss ?? 0));
    expect(train.at(-1)?.loss).toBeLessThan(0.7 * (train[0]?.loss ?? 0));
    expect(train.at(-1)?.accuracy).toBeGreaterThan(0.1); // chance: 1/120
    expect(result.eval?.loss).toBe(evals.at(-1)?.loss);

    // model/ is a Hugging Face BertForMaskedLM directory holding exactly the last checkpoint's weights.
    const model = await loadHfModel(join(c.out, 'model'));
    expect(model.config.modelType).toBe('bert');
    expect(JSON.parse(readFileSync(join(c.out, 'model', 'config.json'), 'utf8')).architectures).toEqual(['BertForMaskedLM']);
    const g = new GraphBuilder('expected');
    multiTaskClassifier(g, model.config.encoder, [{ name: 'sentiment', type: 'multiclass', labels: ['negative', 'positive'] }], { training: false, pooling: 'cls', headStyle: 'linear' });
    const expected = g.build().params.map((p) => ({ name: p.name, shape: p.shape as number[] }));
    const mapped = mapCheckpoint(expected, model.tensors, { source: 'model', allowMissing: [/^heads\./] });
    expect(mapped.report.missing).toEqual(['heads.sentiment.weight', 'heads.sentiment.bias']);
    expect(mapped.report.unexpected.map((u) => [u.key, u.kind])).toEqual([
      'cls.predictions.bias', 'cls.predictions.transform.LayerNorm.bias', 'cls.predictions.transform.LayerNorm.weight',
      'cls.predictions.transform.dense.bias', 'cls.predictions.transform.dense.weight',
    ].map((key) => [key, 'pretraining-head']));
    const last = await finalParams(c.out);
    for (const [name, p] of mapped.params) {
      expect(Buffer.compare(Buffer.from(p.data.buffer, p.data.byteOffset, p.data.byteLength), Buffer.from(last.get(name) ?? [])), name).toBe(0);
    }

    // Fine-tuning from it: xlmt train maps the encoder and reports the masked-LM head as left unused.
    const logged: string[] = [];
    const fineTuned = await runTraining(parseTrainConfig({
      train: fixture.train, dev: fixture.dev, tasks: fixture.tasks, init: join(c.out, 'model'), out: join(fixture.dir, 'fine-tuned'),
      maxLength: 16, batchSize: 8, epochs: 1, lr: 3e-3, threads: 1,
    }, 'test'), { log: (l) => logged.push(l) });
    expect(fineTuned.steps).toBeGreaterThan(0);
    expect(logged.join('\n')).toMatch(/unused \(pretraining-head\): cls\.predictions\./);
  });

  it('resumes after a crash with exactly the weights of an unbroken run', async () => {
    const unbroken = config('unbroken');
    await runPretraining(unbroken, quiet);
    const crashed = config('crashed');
    const crash: PretrainEvents = { log: () => {}, onStep: (e) => { if (e.step === 23) throw new Error('simulated crash'); } };
    await expect(runPretraining(crashed, crash)).rejects.toThrow('simulated crash');
    const progress = JSON.parse(readFileSync(join(crashed.out, 'checkpoints', 'last', 'progress.json'), 'utf8')) as { step: number; epoch: number; batch: number };
    expect(progress).toMatchObject({ step: 20, epoch: 1, batch: 6 }); // 14 batches an epoch
    const logged: string[] = [];
    await runPretraining(crashed, { log: (l) => logged.push(l) });
    expect(logged).toContain(`resuming ${crashed.out} at step 20 of 42`);
    expectSameParams(await finalParams(unbroken.out), await finalParams(crashed.out));
    expect(untimed(crashed.out)).toEqual(untimed(unbroken.out));
    const model = (out: string): Buffer => readFileSync(join(out, 'model', 'model.safetensors'));
    expect(model(crashed.out).equals(model(unbroken.out))).toBe(true);

    // Run again, a finished run says so and changes nothing.
    const again: string[] = [];
    const result = await runPretraining(unbroken, { log: (l) => again.push(l) });
    expect(result.alreadyFinished).toBe(true);
    expect(again.at(-1)).toMatch(/has finished already \(42 steps\)/);
  });

  it('resumes after the process is killed mid-run', async () => {
    const killed = config('killed', { epochs: 12, checkpointEvery: 3 });
    mkdirSync(killed.out, { recursive: true });
    const file = `${killed.out}-config.json`; // beside the run: --out takes no files other than a run's
    writeFileSync(file, JSON.stringify(killed));
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'pretrain', '--config', file, '--quiet'], { stdio: 'ignore' });
    const progressFile = join(killed.out, 'checkpoints', 'last', 'progress.json');
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (existsSync(progressFile) && (JSON.parse(readFileSync(progressFile, 'utf8')) as { step: number }).step >= 6) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const progress = JSON.parse(readFileSync(progressFile, 'utf8')) as { done: boolean; step: number };
    expect(progress.done, 'the run finished before it could be killed: make it longer').toBe(false);
    await runPretraining(killed, quiet);
    const reference = config('killed-reference', { epochs: 12, checkpointEvery: 3 });
    await runPretraining(reference, quiet);
    expectSameParams(await finalParams(reference.out), await finalParams(killed.out));
  });

  it('refuses to resume a run directory with other settings, naming them', async () => {
    const first = config('settings');
    await runPretraining(first, { log: () => {}, onStep: (e) => { if (e.step === 6) throw new Error('stop'); } }).catch(() => {});
    await expect(runPretraining({ ...first, lr: 1e-4, maskProbability: 0.2 }, quiet))
      .rejects.toThrow(/holds an unfinished run with other settings .*lr: 0\.003 in the run, 0\.0001 now; maskProbability: 0\.15 in the run, 0\.2 now/);
    // Threads only change speed: the run resumes.
    await expect(runPretraining({ ...first, threads: 2 }, quiet)).resolves.toMatchObject({ steps: 42 });
  });

  it('resumes a run begun by an earlier version whose config lacked fields added since (they take their defaults)', async () => {
    const unbroken = config('unbroken-v1');
    await runPretraining(unbroken, quiet);
    const older = config('older-version');
    await runPretraining(older, { log: () => {}, onStep: (e) => { if (e.step === 23) throw new Error('stop'); } }).catch(() => {});
    // What an earlier version left: a config.json without the skip-gram fields, a fingerprint over the fields it had.
    const { objective: _o, window: _w, negatives: _n, subsample: _s, ...earlier } = older;
    writeFileSync(join(older.out, 'config.json'), JSON.stringify(earlier));
    const progressFile = join(older.out, 'checkpoints', 'last', 'progress.json');
    const saved = JSON.parse(readFileSync(progressFile, 'utf8')) as { fingerprint: string };
    const { threads: _t, evalBatchSize: _e, out: _out, ...settings } = earlier;
    const corpus = saved.fingerprint.split(':')[1];
    writeFileSync(progressFile, JSON.stringify({ ...saved, fingerprint: `${createHash('sha256').update(JSON.stringify(settings)).digest('hex').slice(0, 16)}:${corpus}` }));

    await runPretraining(older, quiet);
    expectSameParams(await finalParams(unbroken.out), await finalParams(older.out));
    expect(JSON.parse(readFileSync(join(older.out, 'config.json'), 'utf8'))).toMatchObject({ objective: 'mlm', window: 5 });
  });

  it('pretrains with XLM-R conventions when the tokenizer pads with <pad>: lm_head names, RoBERTa positions', async () => {
    const texts = readFileSync(fixture.train, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { text: string }).text);
    const tokenizer = join(fixture.dir, 'unigram.json');
    (await trainTokenizer(texts, { type: 'unigram', vocabSize: 100 })).save(tokenizer);
    const c = config('xlmr', { tokenizer, epochs: 1 });
    await runPretraining(c, quiet);
    const model = await loadHfModel(join(c.out, 'model'));
    expect(model.config.modelType).toBe('xlm-roberta');
    expect([...model.tensors.keys()].filter((k) => k.startsWith('lm_head.')).sort()).toEqual([
      'lm_head.bias', 'lm_head.dense.bias', 'lm_head.dense.weight', 'lm_head.layer_norm.bias', 'lm_head.layer_norm.weight',
    ]);
    // Continued pretraining from it loads the head too: nothing starts fresh, nothing is left over.
    const logged: string[] = [];
    await runPretraining(config('xlmr-continued', { init: join(c.out, 'model'), tokenizer: undefined, epochs: undefined, steps: 3, lr: 5e-5 }), { log: (l) => logged.push(l) });
    expect(logged.find((l) => l.startsWith('initialized from'))).not.toMatch(/missing|unused/);
  });

  it('explains missing inputs and sizes that do not fit, naming files and flags', async () => {
    await expect(runPretraining(config('errors', { corpus: [join(fixture.dir, 'nope.jsonl')] }), quiet)).rejects.toThrow(/nope\.jsonl: cannot read the corpus file: no such file or directory/);
    await expect(runPretraining(parsePretrainConfig({ corpus: [fixture.train], out: join(fixture.dir, 'errors') }, 'test'), quiet))
      .rejects.toThrow(/--tokenizer: no tokenizer given\. Give --tokenizer FILE/);
    await expect(runPretraining(config('errors', { maxLength: 64 }), quiet))
      .rejects.toThrow(/--max-length: longer than the 40 position embeddings .*expected at most 40; received 64/);
    // A checkpoint whose vocabulary is smaller than the tokenizer's.
    const small = join(fixture.dir, 'small-vocab');
    cpSync(join(fixture.dir, 'plain', 'model'), small, { recursive: true });
    const hfConfig = JSON.parse(readFileSync(join(small, 'config.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(small, 'config.json'), JSON.stringify({ ...hfConfig, vocab_size: 50 }));
    await expect(runPretraining(config('errors', { init: small }), quiet))
      .rejects.toThrow(/tokenizer\.json: more tokens than the embeddings \(vocab_size\) of .*small-vocab\/config\.json \(expected at most 50 tokens; received 120 tokens\)/);
    expect(() => config('errors', { steps: 10, epochs: 2 })).toThrow(/steps: give steps or epochs, not both/);
  });

  it('lets flags override the config file, --steps replacing its epochs', () => {
    const file = join(fixture.dir, 'pretrain.json');
    writeFileSync(file, JSON.stringify({ corpus: ['a.txt'], tokenizer: 'tok.json', epochs: 3, encoder: { layers: 2 }, lr: 1e-3 }));
    const resolved = resolvePretrainConfig({ config: file, steps: 100, hidden: 64, heads: 2, lr: 2e-3 });
    expect(resolved).toMatchObject({ steps: 100, lr: 2e-3, encoder: { layers: 2, hidden: 64, heads: 2 }, batchSize: 32, maskProbability: 0.15 });
    expect(resolveShape(resolved.encoder, PRETRAIN_SHAPE)).toMatchObject({ layers: 2, hidden: 64, heads: 2, ffn: 1024 });
    expect(resolved.epochs).toBeUndefined();
  });
});
