// `xlmt prune heads-ffn`: removes attention heads and FFN neurons by their importance on the user's labeled data,
// over several rounds, then cuts the matrices. The steps:
//   1. per task, up to `samples` labeled examples, in batches fed with that task's labels alone;
//   2. each round: importance of every living unit per task (importance.ts) on the model as masked so far, tasks
//      made comparable and averaged (select.ts), then the round's budget kept (linear from all units to the
//      target over the rounds; TextPruner reports 91.95 with 16 rounds against 45.35 with one at one budget);
//   3. the matrices cut (cut.ts), and the cut model checked against the masked one before anything is written.
// 'random' ranks units at random (seeded), in one round: the baseline importance has to beat.
import { loadDataset, loadTaskSchema, type Task } from '../../data/index.ts';
import { XlmtError } from '../../errors/index.ts';
import { GraphBuilder } from '../../builder/builder.ts';
import type { ParamStore } from '../../ir/params.ts';
import { layerShapes } from '../../models/config.ts';
import { encoderInputs, multiTaskClassifier } from '../../models/multitask.ts';
import { Session, type Feeds, type Results } from '../../runtime/session.ts';
import { encodeExamples } from '../../train/examples.ts';
import type { TrainedModel } from '../../train/model-dir.ts';
import { Random } from '../../util/random.ts';
import { readForCompression, writeCompressed } from '../model-io.ts';
import { type CutModel, cutHeadsAndNeurons, type LayerCut } from './cut.ts';
import { fullMasks, ImportanceProbe, logitsOutput, type TaskBatches, taskBatches, type UnitMasks, type UnitScores } from './importance.ts';
import { countParameters } from './layers.ts';
import { type Budget, combineTasks, roundBudget, selectUnits, survivingShare } from './select.ts';

export const PRUNE_METHODS = ['importance', 'random'] as const;
export type PruneMethod = (typeof PRUNE_METHODS)[number];

export interface HeadsFfnOptions {
  /** Labeled data the importance is measured on (the training data, typically). */
  readonly data: string;
  /** A task schema to check the model's against (the model's own is used). */
  readonly tasks?: string;
  /** Heads to keep per layer, on average (global ranking) or in every layer (even). */
  readonly heads?: number;
  /** Heads to keep in each layer, exactly. */
  readonly headsPerLayer?: readonly number[];
  /** FFN neurons to keep per layer, on average (global) or in every layer (even). */
  readonly ffn?: number;
  readonly iterations: number;
  /** The same count in every layer instead of a global ranking. */
  readonly even: boolean;
  readonly method: PruneMethod;
  /** Labeled examples per task used to score (at most). */
  readonly samples: number;
  readonly batchSize: number;
  readonly threads: number;
  readonly seed: number;
  readonly log?: (line: string) => void;
}

export interface TaskSurvival {
  readonly task: string;
  readonly examples: number;
  /** Share of the task's importance (on the unpruned model) held by the kept heads / neurons. */
  readonly heads: number;
  readonly neurons: number;
}

export interface HeadsFfnReport {
  readonly model: string;
  readonly out: string;
  readonly method: PruneMethod;
  readonly rounds: number;
  readonly headsPerLayer: readonly number[];
  readonly ffnPerLayer: readonly number[];
  readonly parametersBefore: number;
  readonly parametersAfter: number;
  readonly survival: readonly TaskSurvival[];
  /** Largest |Δ logit| between the cut model and the masked one on the check batches. */
  readonly checkMaxDiff: number;
}

const CHECK_TOLERANCE = 1e-3;
const CHECK_BATCHES = 2;

export async function pruneHeadsFfn(modelPath: string, out: string, o: HeadsFfnOptions): Promise<HeadsFfnReport> {
  const log = o.log ?? (() => {});
  const { dir, model, output } = await readForCompression('prune heads-ffn', modelPath, out, { '--model': modelPath, '--data': o.data, '--tasks': o.tasks });
  if (o.tasks) await checkSchema(o.tasks, model.schema.tasks);
  const c = model.hf.encoder;
  const shapes = layerShapes(c);
  const headTarget = headBudget(o, shapes.map((s) => s.heads.length));
  const ffnTarget = o.ffn === undefined ? null : ffnBudget(o.ffn, o.even, shapes.map((s) => s.intermediateSize));
  if (!headTarget && !ffnTarget) {
    throw new XlmtError({ code: 'BAD_OPTION', where: { field: '--heads' }, message: 'nothing to prune: give --heads, --heads-per-layer or --ffn', hint: 'e.g. --heads 6 --ffn 768 for half of a 12-head, 1536-wide model' });
  }

  const dataset = await loadDataset(o.data, { schema: model.schema });
  const encoded = await encodeExamples(model.tokenizer, dataset, model.meta.maxLength);
  const random = new Random(o.seed);
  const batches: TaskBatches[] = model.schema.tasks.map((task) => {
    const labeled = dataset.examples.flatMap((e, i) => (e.labels.has(task.name) ? [i] : []));
    if (labeled.length === 0) {
      throw new XlmtError({ code: 'BAD_OPTION', where: { field: '--data', file: o.data, task: task.name }, message: `no row is labeled for task ${task.name}, so its importance cannot be measured and its heads would not be protected`, hint: 'prune on data labeled for every task of the model (its training data)' });
    }
    return taskBatches(model, dataset.examples, encoded, task, random.shuffle(labeled).slice(0, o.samples), o.batchSize);
  });

  const probe = await ImportanceProbe.create(model, o.threads);
  try {
    const rounds = o.method === 'random' ? 1 : o.iterations;
    let masks = fullMasks(model);
    const alive = (m: readonly Float32Array[]): number[] => m.map((x) => x.reduce((a, b) => a + b, 0));
    const initial = { heads: alive(masks.heads), neurons: alive(masks.neurons) };
    let first: Map<string, UnitScores> | null = null;
    for (let round = 1; round <= rounds; round++) {
      const started = Date.now();
      const perTask = o.method === 'random' ? randomScores(masks, batches, o.seed) : await probe.scores(masks, batches);
      first ??= o.method === 'random' ? await probe.scores(masks, batches) : perTask;
      const combined = combineTasks(perTask);
      masks = {
        heads: headTarget ? selectUnits(combined.heads, masks.heads, roundBudget(initial.heads, headTarget, round, rounds)) : masks.heads,
        neurons: ffnTarget ? selectUnits(combined.neurons, masks.neurons, roundBudget(initial.neurons, ffnTarget, round, rounds)) : masks.neurons,
      };
      log(`round ${round}/${rounds} (${((Date.now() - started) / 1000).toFixed(1)} s): heads ${alive(masks.heads).join(' ')}; FFN ${alive(masks.neurons).join(' ')}`);
    }
    const cut = cutModel(model.hf.encoder, model.params, masks);
    const checkMaxDiff = await checkCut(probe, masks, cut, model, dir, batches);
    const survival = model.schema.tasks.map((t, i) => ({
      task: t.name,
      examples: (batches[i] as TaskBatches).feeds.reduce((n, f) => n + ((f['input_ids']?.shape[0] ?? 0) as number), 0),
      ...survivingShare((first as Map<string, UnitScores>).get(t.name) as UnitScores, masks),
    }));
    const cutShapes = layerShapes(cut.config);
    const report: HeadsFfnReport = {
      model: dir, out, method: o.method, rounds,
      headsPerLayer: cutShapes.map((s) => s.heads.length), ffnPerLayer: cutShapes.map((s) => s.intermediateSize),
      parametersBefore: countParameters(model.params), parametersAfter: countParameters(cut.params), survival, checkMaxDiff,
    };
    await writeCompressed(output, { ...model, hf: { ...model.hf, encoder: cut.config }, params: cut.params }, {
      command: 'prune heads-ffn', from: dir, data: o.data, method: o.method, rounds, even: o.even, samples: o.samples,
      headsPerLayer: report.headsPerLayer, ffnPerLayer: report.ffnPerLayer,
      survival: survival.map((s) => ({ task: s.task, heads: round4(s.heads), neurons: round4(s.neurons) })),
    });
    return report;
  } finally {
    await probe.release();
  }
}

const round4 = (x: number): number => Math.round(x * 1e4) / 1e4;

function headBudget(o: HeadsFfnOptions, heads: readonly number[]): Budget | null {
  if (o.heads !== undefined && o.headsPerLayer !== undefined) {
    throw new XlmtError({ code: 'BAD_OPTION', where: { field: '--heads-per-layer' }, message: 'give --heads or --heads-per-layer, not both' });
  }
  if (o.headsPerLayer !== undefined) {
    if (o.headsPerLayer.length !== heads.length) {
      throw new XlmtError({ code: 'BAD_OPTION', where: { field: '--heads-per-layer' }, message: `the model has ${heads.length} layers`, expected: `${heads.length} counts`, received: o.headsPerLayer.join(',') });
    }
    o.headsPerLayer.forEach((n, i) => checkCount('--heads-per-layer', n, heads[i] as number, `layer ${i}'s heads`));
    return { kind: 'per-layer', counts: o.headsPerLayer };
  }
  if (o.heads === undefined) return null;
  const most = o.even ? Math.min(...heads) : Math.max(...heads);
  checkCount('--heads', o.heads, most, o.even ? 'heads of the layer with fewest' : 'heads of the widest layer');
  return o.even ? { kind: 'per-layer', counts: heads.map(() => o.heads as number) } : { kind: 'global', total: Math.min(o.heads * heads.length, heads.reduce((a, b) => a + b, 0)) };
}

function ffnBudget(ffn: number, even: boolean, sizes: readonly number[]): Budget {
  const most = even ? Math.min(...sizes) : Math.max(...sizes);
  checkCount('--ffn', ffn, most, even ? 'FFN neurons of the narrowest layer' : 'FFN neurons of the widest layer');
  return even ? { kind: 'per-layer', counts: sizes.map(() => ffn) } : { kind: 'global', total: Math.min(ffn * sizes.length, sizes.reduce((a, b) => a + b, 0)) };
}

function checkCount(flag: string, n: number, most: number, what: string): void {
  if (!Number.isInteger(n) || n < 1 || n > most) {
    throw new XlmtError({ code: 'BAD_OPTION', where: { field: flag }, message: `asks to keep ${n}, but there are ${most} ${what}`, expected: `an integer in 1…${most}`, received: String(n) });
  }
}

async function checkSchema(file: string, tasks: readonly Task[]): Promise<void> {
  const given = (await loadTaskSchema(file)).tasks;
  const describe = (ts: readonly Task[]): string => ts.map((t) => `${t.name} (${t.type}: ${t.labels.join(', ')})`).join('; ');
  if (describe(given) !== describe(tasks)) {
    throw new XlmtError({ code: 'BAD_OPTION', where: { field: '--tasks', file }, message: 'the task schema is not the model\'s', expected: describe(tasks), received: describe(given) });
  }
}

/** Random scores per task (the same for every task), for the random baseline. */
function randomScores(masks: UnitMasks, batches: readonly TaskBatches[], seed: number): Map<string, UnitScores> {
  const random = new Random(seed ^ 0x5eed);
  const draw = (m: readonly Float32Array[]): Float64Array[] => m.map((x) => Float64Array.from(x, () => random.next()));
  const scores = { heads: draw(masks.heads), neurons: draw(masks.neurons) };
  return new Map(batches.map((b) => [b.task, scores]));
}

/** The masks as a physical cut: removed heads named by their index before any pruning. */
function cutModel(config: CutModel['config'], params: ParamStore, masks: UnitMasks): CutModel {
  const shapes = layerShapes(config);
  const cuts: Record<number, LayerCut> = {};
  shapes.forEach((s, layer) => {
    const heads = masks.heads[layer] as Float32Array;
    const neurons = masks.neurons[layer] as Float32Array;
    const removeHeads = s.heads.filter((_, position) => (heads[position] as number) === 0);
    const keepNeurons = [...neurons.keys()].filter((u) => (neurons[u] as number) > 0);
    cuts[layer] = { removeHeads, ...(keepNeurons.length < s.intermediateSize ? { keepNeurons } : {}) };
  });
  return cutHeadsAndNeurons(config, params, cuts);
}

/** The cut model's logits against the masked model's, on the first batches of each task. */
async function checkCut(probe: ImportanceProbe, masks: UnitMasks, cut: CutModel, model: TrainedModel, dir: string, batches: readonly TaskBatches[]): Promise<number> {
  const g = new GraphBuilder('cut');
  const inputs = encoderInputs(g);
  const logits = multiTaskClassifier(g, cut.config, model.schema.tasks, { training: false, pooling: model.meta.pooling, headStyle: model.meta.headStyle, inputs });
  for (const [task, value] of logits) g.output(logitsOutput(task), value);
  const session = await Session.create(g.build(), { params: cut.params, threads: 1 });
  let worst = 0;
  try {
    for (const b of batches) {
      for (const feeds of b.feeds.slice(0, CHECK_BATCHES)) {
        const tokens: Feeds = Object.fromEntries(['input_ids', 'position_ids', 'token_type_ids', 'attention_mask'].map((k) => [k, feeds[k]] as const)) as Feeds;
        const expected: Results = await probe.logits(masks, feeds);
        const got = await session.run(tokens);
        for (const [name, t] of Object.entries(expected)) {
          const a = t.data as Float32Array;
          const b2 = got[name]?.data as Float32Array;
          for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs((a[i] as number) - (b2[i] as number)));
        }
      }
    }
  } finally {
    await session.release();
  }
  if (!(worst <= CHECK_TOLERANCE)) {
    throw new XlmtError({ code: 'PRUNE_CHECK_FAILED', where: { file: dir }, message: 'the cut model\'s logits differ from the masked model\'s; nothing was written', expected: `at most ${CHECK_TOLERANCE}`, received: String(worst) });
  }
  return worst;
}
