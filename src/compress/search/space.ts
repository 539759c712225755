// The space `xlmt compress --search` explores, and its candidates: each a recipe of the pipeline's own steps from
// the teacher, named by its steps ("layers-6.heads-6-ffn-768.trim.train.int8"), so candidates that begin alike
// share those steps' outputs. JSON or YAML; a bad space is refused naming the field.
//
//   layers     fractions of the teacher's layers kept (prune-layers, top layers dropped)      [1, 0.5, 0.25]
//   headsFfn   fractions of every layer's heads and FFN neurons kept (prune-heads-ffn)       [1, 0.5]
//   students   students { layers, hidden } as fractions of the teacher (init-student),        [{ layers: 0.5, hidden: 0.5 }]
//              each with how init-student makes it (weights: teacher, select or random) and its own training
//              settings over train's (fresh layers may want another learning rate)
//   narrowed   students { layers, hidden } cut from the teacher, never started afresh: the top layers dropped,    []
//              heads and FFN neurons cut evenly to the hidden fraction, then the hidden size in `rounds`, each cut
//              trained on with the teacher (prune-hidden's retrain: train's settings and the entry's `settings`)
//   int8       exported int8 or served fp32                                                   [false, true]
//   trimVocab  the vocabulary trimmed to the training data or not (trim-vocab)               [false, true]
//   train      every candidate's training with the teacher (Eq. 2): { epochs, settings }     { epochs: 1 }
//   prune      prune-heads-ffn's { iterations, samples, method }                             { 4, 1000, importance }
//
// The teacher's own shape (layers 1, headsFfn 1) is not trained again: only trimmed and/or exported int8.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { XlmtError } from '../../errors/index.ts';
import type { EncoderConfig } from '../../models/config.ts';
import { applyShape } from '../../bench/shapes.ts';
import { planStudent, STUDENT_WEIGHTS } from '../distill/student-shape.ts';
import type { Step } from '../pipeline/recipe.ts';
import { narrowedConfig } from '../prune/hidden.ts';

const fraction = z.number().gt(0).max(1);

export const SpaceSchema = z.strictObject({
  layers: z.array(fraction).min(1).default([1, 0.5, 0.25]),
  headsFfn: z.array(fraction).min(1).default([1, 0.5]),
  students: z.array(z.strictObject({ layers: fraction, hidden: fraction, weights: z.enum(STUDENT_WEIGHTS).optional(), settings: z.record(z.string(), z.unknown()).optional() })).default([{ layers: 0.5, hidden: 0.5 }]),
  narrowed: z.array(z.strictObject({
    layers: fraction, hidden: fraction, rounds: z.number().int().positive().default(1), settings: z.record(z.string(), z.unknown()).optional(),
  })).default([]),
  int8: z.array(z.boolean()).min(1).default([false, true]),
  trimVocab: z.array(z.boolean()).min(1).default([false, true]),
  train: z.strictObject({ epochs: z.number().int().positive().default(1), settings: z.record(z.string(), z.unknown()).default({}) }).default({ epochs: 1, settings: {} }),
  prune: z.strictObject({
    iterations: z.number().int().positive().default(4), samples: z.number().int().positive().default(1000), method: z.enum(['importance', 'random']).default('importance'),
  }).default({ iterations: 4, samples: 1000, method: 'importance' }),
});

export type Space = z.infer<typeof SpaceSchema>;

export interface Candidate {
  /** Its steps' names joined by dots; also the name of its report. */
  readonly id: string;
  /** The pipeline steps from the teacher, each named by what it does ("layers-6"): a step's directory is the prefix's id. */
  readonly steps: readonly Step[];
  /** The encoder it will have, for timing before anything is trained (the vocabulary as the teacher's). */
  readonly shape: EncoderConfig;
  /** Its shape's key: candidates differing only in a trimmed vocabulary share their timing. */
  readonly shapeKey: string;
  readonly int8: boolean;
  readonly trim: boolean;
  /** It has a training step (anything but the teacher's own shape exported or trimmed). */
  readonly trains: boolean;
}

/** A space object validated; `origin` names its file in errors. */
export function parseSpace(input: unknown, origin: string): Space {
  const parsed = SpaceSchema.safeParse(input ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = (issue?.path ?? []).join('.');
    throw new XlmtError({
      code: 'CONFIG_INVALID', where: { file: origin, ...(field ? { field } : {}) }, message: issue?.message ?? 'invalid search space',
      hint: `the fields are ${Object.keys(SpaceSchema.shape).join(', ')} (docs/compress.md, "The search"); fractions are of the teacher, in (0, 1]`,
    });
  }
  return parsed.data;
}

/** A space file, JSON or YAML (.yaml / .yml); no file: the default space. */
export function loadSpace(file: string | undefined): Space {
  if (file === undefined) return parseSpace({}, 'the default space');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new XlmtError({ code: 'FILE_NOT_FOUND', where: { file, field: '--space' }, message: `cannot read the search space: ${(e as Error).message}` }, { cause: e });
  }
  const yaml = /\.ya?ml$/i.test(file);
  let value: unknown;
  try {
    value = yaml ? parseYaml(text) : JSON.parse(text);
  } catch (e) {
    throw new XlmtError({ code: 'CONFIG_INVALID', where: { file }, message: `not ${yaml ? 'YAML' : 'JSON'}: ${(e as Error).message}` }, { cause: e });
  }
  return parseSpace(value, file);
}

const atLeastOne = (n: number): number => Math.max(1, Math.round(n));

/** One structure before training: its steps, its encoder and its key. */
interface Structure {
  readonly steps: Step[];
  readonly shape: EncoderConfig;
  readonly key: string;
  /** The teacher's own shape: nothing to train. */
  readonly teacherShape: boolean;
  /** Training settings of this structure over the space's. */
  readonly settings?: Record<string, unknown>;
}

function structures(teacher: EncoderConfig, space: Space): Structure[] {
  const out: (Structure | null)[] = [];
  const seen = new Set<string>();
  const heads = teacher.numAttentionHeads;
  for (const lf of space.layers) {
    for (const hf of space.headsFfn) {
      const layers = atLeastOne(teacher.numHiddenLayers * lf);
      const keptHeads = atLeastOne(heads * hf);
      const ffn = atLeastOne(teacher.intermediateSize * hf);
      const steps: Step[] = [];
      if (layers < teacher.numHiddenLayers) steps.push({ step: 'prune-layers', name: `layers-${layers}`, keepCount: layers, strategy: 'top' });
      if (keptHeads < heads || ffn < teacher.intermediateSize) {
        steps.push({ step: 'prune-heads-ffn', name: `heads-${keptHeads}-ffn-${ffn}`, heads: keptHeads, ffn, method: space.prune.method, iterations: space.prune.iterations, samples: space.prune.samples, even: false });
      }
      const key = steps.map((s) => s.name).join('.') || 'teacher';
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ steps, key, teacherShape: steps.length === 0, shape: applyShape(teacher, { layers, heads: keptHeads, ffn }, 'the teacher') });
    }
  }
  for (const s of space.students) {
    const layers = atLeastOne(teacher.numHiddenLayers * s.layers);
    const headSize = teacher.hiddenSize / teacher.numAttentionHeads;
    const hidden = headSize * atLeastOne((teacher.hiddenSize * s.hidden) / headSize);
    // The weights do not change the shape (one timing) but do change the model: the name says them unless default.
    const key = `student-${layers}x${hidden}`;
    const name = s.weights && s.weights !== 'teacher' ? `${key}-${s.weights}` : key;
    if (seen.has(name)) continue;
    seen.add(name);
    const plan = planStudent(teacher, { layers, hidden }, s.weights ? { weights: s.weights } : {});
    const shape = plan.kind === 'copy' ? applyShape(teacher, { layers, ...(plan.heads ? { heads: plan.heads } : {}), ...(plan.ffn ? { ffn: plan.ffn } : {}) }, 'the teacher') : plan.config;
    const step: Step = { step: 'init-student', name, layers, hidden, ...(s.weights ? { weights: s.weights } : {}) };
    out.push({ steps: [step], key, teacherShape: false, shape, ...(s.settings ? { settings: s.settings } : {}) });
  }
  for (const n of space.narrowed) out.push(narrowedStructure(teacher, space, n, seen));
  return out.filter((s): s is Structure => s !== null);
}

/** A narrowed student's structure; null when an equal one came before. */
function narrowedStructure(teacher: EncoderConfig, space: Space, n: Space['narrowed'][number], seen: Set<string>): Structure | null {
  const headSize = teacher.hiddenSize / teacher.numAttentionHeads;
  const layers = atLeastOne(teacher.numHiddenLayers * n.layers);
  const heads = Math.min(teacher.numAttentionHeads, atLeastOne((teacher.hiddenSize * n.hidden) / headSize));
  const hidden = heads * headSize;
  const ffn = atLeastOne((teacher.intermediateSize * hidden) / teacher.hiddenSize);
  const key = `narrowed-${layers}x${hidden}-r${n.rounds}`;
  if (seen.has(key)) return null;
  seen.add(key);
  const steps: Step[] = [];
  if (layers < teacher.numHiddenLayers) steps.push({ step: 'prune-layers', name: `layers-${layers}`, keepCount: layers, strategy: 'top' });
  if (hidden < teacher.hiddenSize) {
    steps.push({ step: 'prune-heads-ffn', name: `heads-${heads}-ffn-${ffn}-even`, heads, ffn, method: space.prune.method, iterations: space.prune.iterations, samples: space.prune.samples, even: true });
    const retrain = { ...space.train.settings, ...n.settings, epochs: 1 };
    steps.push({ step: 'prune-hidden', name: `hidden-${hidden}-r${n.rounds}`, keep: hidden, method: 'activation', samples: 1000, rounds: n.rounds, ...(n.rounds > 1 ? { retrain } : {}) });
  }
  const pruned = applyShape(teacher, { layers, heads, ffn }, 'the teacher');
  const shape = hidden < teacher.hiddenSize ? narrowedConfig(pruned, hidden) : pruned;
  return { steps, key, teacherShape: steps.length === 0, shape, ...(n.settings ? { settings: n.settings } : {}) };
}

/**
 * Every candidate of the space for this teacher. A student's vocabulary is trimmed before it is made (its
 * embeddings are projected from fewer rows); a pruned model's after pruning. The teacher itself is no candidate.
 */
export function candidates(teacher: EncoderConfig, space: Space): Candidate[] {
  const out: Candidate[] = [];
  for (const s of structures(teacher, space)) {
    const train: Step = { step: 'train', name: 'train', teacher: true, settings: { epochs: space.train.epochs, ...space.train.settings, ...s.settings } };
    for (const trim of space.trimVocab) {
      const trimStep: Step[] = trim ? [{ step: 'trim-vocab', name: 'trim', minCount: 1 }] : [];
      const shaped = s.steps[0]?.step === 'init-student' ? [...trimStep, ...s.steps] : [...s.steps, ...trimStep];
      const trained = s.teacherShape ? shaped : [...shaped, train];
      for (const int8 of space.int8) {
        const steps: Step[] = int8 ? [...trained, { step: 'export', name: 'int8', int8: true, perChannel: true }] : trained;
        if (steps.length === 0) continue; // the teacher as it is
        out.push({ id: steps.map((x) => x.name).join('.'), steps, shape: s.shape, shapeKey: s.key, int8, trim, trains: !s.teacherShape });
      }
    }
  }
  return out;
}
