// A student for distillation, made from its teacher: the teacher's tokenizer, task schema, pooling and head style,
// an encoder of the student's shape, and weights copied (same hidden size), projected (the embeddings of a
// narrower student, by truncated SVD), sliced (a narrower student with --weights select: student-select.ts) or
// initialized as xlmt initializes new models (models/init.ts). The record says which parameter went which way, and
// goes into the student's xlmt.json.
import { GraphBuilder } from '../../builder/builder.ts';
import type { Parameter, ParamStore } from '../../ir/params.ts';
import { type EncoderConfig, layerShapes } from '../../models/config.ts';
import { initParams } from '../../models/init.ts';
import { multiTaskClassifier } from '../../models/multitask.ts';
import type { TrainedModel } from '../../train/model-dir.ts';
import { compressionHistory } from '../model-io.ts';
import { copyLayers } from './student-copy.ts';
import { projectEmbeddings } from './student-embeddings.ts';
import { evenlySpaced, selectHidden } from './student-select.ts';
import { planStudent, type StudentOptions, type StudentShapeSpec, type StudentWeights } from './student-shape.ts';

/** How the student was made, as recorded in xlmt.json's info.compression. Parameters are named by group. */
export interface StudentRecord {
  readonly weights: StudentWeights;
  readonly shape: {
    readonly layers: number;
    readonly hidden: number;
    /** Attention heads per layer. */
    readonly heads: readonly number[];
    /** FFN width per layer. */
    readonly ffn: readonly number[];
  };
  /** Student layer i is a copy of teacher layer layerMap[i]. */
  readonly layerMap?: readonly number[];
  /** Per student layer, the teacher heads (indices before any pruning) it kept, where a copy cut heads away. */
  readonly keptHeads?: readonly (readonly number[])[];
  /** How heads and neurons were chosen, where a copy cut some away. */
  readonly selection?: string;
  readonly copied: readonly string[];
  readonly projected: readonly string[];
  readonly initialized: readonly string[];
  readonly svd?: {
    readonly rank: number;
    readonly wordRelativeError: number;
    readonly energyKept: Readonly<Record<string, number>>;
  };
  readonly seed: number;
}

export interface Student {
  /** Its arrays are its own: training it leaves the teacher as it was. */
  readonly model: TrainedModel;
  readonly record: StudentRecord;
}

const DEFAULT_SEED = 42;
const COPY_SELECTION = 'weight magnitude: ‖W_V block‖·‖W_O block‖ per head, ‖W_in row‖·‖W_out column‖ per FFN neuron';

/**
 * The student of `teacher` for the shape asked (a preset and/or sizes; sizes left out are the teacher's, or derived
 * from them for a narrower student: see planStudent). Refuses, before any work, a shape the teacher cannot give.
 */
export function studentFromTeacher(teacher: TrainedModel, spec: StudentShapeSpec, options: StudentOptions = {}): Student {
  const seed = options.seed ?? DEFAULT_SEED;
  const weights = options.weights ?? 'teacher';
  const plan = planStudent(teacher.hf.encoder, spec, options);
  let config: EncoderConfig;
  let sources: ParamStore = new Map();
  let projected: ParamStore = new Map();
  let details: Partial<StudentRecord> = {};
  if (plan.kind === 'copy') {
    const copied = copyLayers(teacher.hf.encoder, teacher.params, plan.layerMap, plan.heads, plan.ffn);
    config = copied.config;
    sources = copied.params;
    const teacherShapes = layerShapes(teacher.hf.encoder);
    const cut = copied.heads.some((h, i) => h.length < (teacherShapes[plan.layerMap[i] as number]?.heads.length ?? 0))
      || copied.ffn.some((f, i) => f < (teacherShapes[plan.layerMap[i] as number]?.intermediateSize ?? 0));
    details = {
      layerMap: plan.layerMap,
      ...(cut ? { keptHeads: copied.heads, selection: COPY_SELECTION } : {}),
    };
  } else if (plan.kind === 'select') {
    config = plan.config;
    const [from, to] = [teacher.hf.encoder.hiddenSize, config.hiddenSize];
    const copied = copyLayers(teacher.hf.encoder, teacher.params, plan.layerMap, plan.heads, plan.ffn);
    sources = selectHidden(copied.params, from, evenlySpaced(from, to));
    details = {
      layerMap: plan.layerMap, keptHeads: copied.heads,
      selection: `${COPY_SELECTION}; hidden coordinates evenly spaced, ${to} of ${from} (i·${from}/${to})`,
    };
  } else {
    config = plan.config;
    if (plan.project) {
      const embeddings = projectEmbeddings(teacher.params, config.hiddenSize);
      projected = embeddings.params;
      details = { svd: { rank: embeddings.rank, wordRelativeError: embeddings.wordRelativeError, energyKept: embeddings.energyKept } };
    }
  }

  const hf = { ...teacher.hf, encoder: config };
  const params = freshParams(config, teacher, seed);
  const copied: string[] = [];
  const projectedNames: string[] = [];
  const initialized: string[] = [];
  for (const [name, p] of params) {
    const from = projected.get(name) ?? sources.get(name);
    if (from && sameShape(from, p)) {
      p.data.set(from.data);
      (projected.has(name) ? projectedNames : copied).push(name);
    } else {
      initialized.push(name);
    }
  }
  const shapes = layerShapes(config);
  const record: StudentRecord = {
    weights,
    shape: { layers: config.numHiddenLayers, hidden: config.hiddenSize, heads: shapes.map((s) => s.heads.length), ffn: shapes.map((s) => s.intermediateSize) },
    ...details,
    copied: groups(copied),
    projected: groups(projectedNames),
    initialized: groups(initialized),
    seed,
  };
  // The teacher's dev scores and tuned thresholds describe the teacher, not this untrained student: dropped; the
  // passes that made the teacher stay, so the student says where it came from.
  const meta = { ...teacher.meta, thresholds: {}, info: { compression: compressionHistory(teacher) } };
  return { model: { hf, params, tokenizer: teacher.tokenizer, schema: teacher.schema, meta }, record };
}

/** Every parameter of the student's model, initialized as a new model's are. */
function freshParams(config: EncoderConfig, teacher: TrainedModel, seed: number): Map<string, Parameter> {
  const g = new GraphBuilder('student');
  multiTaskClassifier(g, config, teacher.schema.tasks, { training: false, pooling: teacher.meta.pooling, headStyle: teacher.meta.headStyle });
  return initParams(g.build(), seed);
}

function sameShape(a: Parameter, b: Parameter): boolean {
  return a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);
}

/**
 * Parameter names grouped as a reader thinks of them, in first-seen order: `encoder.layer.3`, `heads.sentiment`,
 * `embeddings.word_embeddings`, `pooler.dense`.
 */
export function groups(names: readonly string[]): string[] {
  const seen = new Set<string>();
  for (const name of names) {
    const layer = /^(encoder\.layer\.\d+)\./.exec(name);
    seen.add(layer ? (layer[1] as string) : name.split('.').slice(0, 2).join('.'));
  }
  return [...seen];
}
