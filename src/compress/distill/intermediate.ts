// Intermediate-layer transfer in `xlmt train --teacher-model`: the hidden-state MSE (through learned projections)
// and MiniLMv2's attention relation KL, weighted and added to Eq. 2, over a layer mapping checked against both
// encoders; and the teacher's states fed for them on every batch. The teacher must read the student's very ids,
// so that its states line up with the student's token for token.
import { XlmtError } from '../../errors/index.ts';
import type { Value } from '../../ir/graph.ts';
import type { TensorData } from '../../ir/tensor.ts';
import type { GraphBuilder } from '../../builder/builder.ts';
import { layerShape, type EncoderConfig } from '../../models/config.ts';
import type { EncoderStates } from '../../models/encoder.ts';
import type { RowBatch } from '../../train/classification.ts';
import type { TrainConfig } from '../../train/config.ts';
import { hiddenStateTransferLoss } from './hidden-mse.ts';
import { MATCH_FLAG, resolveMatches } from './match-flag.ts';
import type { LayerMatch } from './matches.ts';
import { teacherHiddenInput, teacherProjectionInput } from './names.ts';
import { ATTENTION_RELATIONS, attentionRelationLoss } from './relation-kl.ts';
import type { Teacher } from './teacher.ts';

/** The training graph's extra outputs: each term before its weight, a scalar per micro-batch. */
export const HIDDEN_MSE_OUTPUT = 'distill:hidden_mse';
export const RELATION_KL_OUTPUT = 'distill:relation_kl';

/** What the intermediate terms are built from, once both encoders are known. */
export interface IntermediatePlan {
  readonly teacher: EncoderConfig;
  /** Pairs for the hidden-state MSE; empty when its weight is 0. */
  readonly hidden: readonly LayerMatch[];
  /** Pairs for the relation KL (transformer layers only); empty when its weight is 0. */
  readonly relation: readonly LayerMatch[];
  readonly hiddenWeight: number;
  readonly relationWeight: number;
  readonly relationHeads: number;
}

type IntermediateSettings = Pick<TrainConfig, 'match' | 'hiddenWeight' | 'relationWeight' | 'relationHeads'>;

export const usesIntermediate = (config: IntermediateSettings): boolean => config.hiddenWeight > 0 || config.relationWeight > 0;

/** The flags that asked for the intermediate terms, for errors. */
export function intermediateFlags(config: IntermediateSettings): string {
  return [config.hiddenWeight > 0 ? '--hidden-weight' : '', config.relationWeight > 0 ? '--relation-weight' : ''].filter(Boolean).join(' and ');
}

/** Refuses a mapping out of either encoder's range, a relation pair on the embeddings, or relation heads that split no layer evenly. */
export function planIntermediate(config: IntermediateSettings, student: EncoderConfig, teacher: EncoderConfig): IntermediatePlan {
  const matches = resolveMatches(config.match, { studentLayers: student.numHiddenLayers, teacherLayers: teacher.numHiddenLayers });
  const relationHeads = config.relationHeads ?? teacher.numAttentionHeads;
  const relation = config.relationWeight > 0 ? matches.filter((m) => m.student > 0) : [];
  if (config.relationWeight > 0) {
    const bad = relation.find((m) => m.teacher === 0);
    if (bad || relation.length === 0) {
      throw new XlmtError({
        code: 'BAD_OPTION',
        where: { field: MATCH_FLAG },
        message: bad ? `student layer ${bad.student} is matched to the teacher's embeddings, which have no attention` : 'no pair of transformer layers for the relation term',
        expected: 'for --relation-weight, pairs of layers ≥ 1 (the relations of layer i are those inside it)',
        received: config.match ?? 'the uniform mapping',
      });
    }
    for (const [side, encoder, layer] of relation.flatMap((m) => [['student', student, m.student], ['teacher', teacher, m.teacher]] as const)) {
      const size = layerShape(encoder, layer - 1).attentionSize;
      if (size % relationHeads !== 0) {
        throw new XlmtError({
          code: 'BAD_OPTION',
          where: { field: '--relation-heads' },
          message: `${relationHeads} relation heads cannot split the ${side}'s layer ${layer}, whose queries, keys and values have ${size} values`,
          expected: `a number of relation heads that divides every matched layer's attention size on both sides`,
          received: String(relationHeads),
          hint: config.relationHeads === undefined ? 'the default is the teacher\'s attention heads: give --relation-heads' : 'choose a common divisor',
        });
      }
    }
  }
  return {
    teacher, hidden: config.hiddenWeight > 0 ? matches : [], relation,
    hiddenWeight: config.hiddenWeight, relationWeight: config.relationWeight, relationHeads,
  };
}

/** One line for the log. */
export function describeIntermediate(plan: IntermediatePlan): string {
  const pairs = (matches: readonly LayerMatch[]): string => matches.map((m) => `${m.student}:${m.teacher}`).join(',');
  const terms = [
    plan.hidden.length > 0 ? `hidden-state MSE × ${plan.hiddenWeight} over ${pairs(plan.hidden)}` : '',
    plan.relation.length > 0 ? `attention relation KL × ${plan.relationWeight} (${plan.relationHeads} relation heads) over ${pairs(plan.relation)}` : '',
  ].filter(Boolean);
  return `intermediate layers (student:teacher): ${terms.join('; ')}`;
}

export interface IntermediateTerms {
  /** W_h·MSE + W_r·relation KL, the terms whose weight is above 0. */
  readonly loss: Value;
  /** Each term unweighted, by output name. */
  readonly outputs: Readonly<Record<string, Value>>;
}

/** The weighted terms over the student's states; attentionMask float [batch, seq]. */
export function intermediateTerms(g: GraphBuilder, student: { readonly config: EncoderConfig; readonly states: EncoderStates }, attentionMask: Value, plan: IntermediatePlan): IntermediateTerms {
  const { op } = g;
  const weighted: Value[] = [];
  const outputs: Record<string, Value> = {};
  if (plan.hidden.length > 0) {
    const mse = hiddenStateTransferLoss(g, student, plan.teacher, plan.hidden, attentionMask);
    outputs[HIDDEN_MSE_OUTPUT] = mse;
    weighted.push(op.Mul(mse, plan.hiddenWeight));
  }
  if (plan.relation.length > 0) {
    const kl = attentionRelationLoss(g, student, plan.teacher, plan.relation, attentionMask, { relationHeads: plan.relationHeads });
    outputs[RELATION_KL_OUTPUT] = kl;
    weighted.push(op.Mul(kl, plan.relationWeight));
  }
  const [first, ...more] = weighted;
  if (!first) throw new XlmtError({ code: 'BAD_ARGUMENT', where: { api: 'intermediateTerms', field: 'plan' }, message: 'no intermediate term has a weight above 0' });
  return { loss: more.length === 0 ? first : op.Sum(first, ...more), outputs };
}

export interface IntermediateBatch {
  /** The teacher's logits per task, from the same forward pass. */
  readonly logits: ReadonlyMap<string, Float32Array>;
  /** `teacher_hidden:<layer>` and `teacher_query|key|value:<layer>` of the plan's pairs. */
  readonly feeds: Readonly<Record<string, TensorData>>;
}

/**
 * One forward pass of the teacher over the student's ids: its logits and the states the plan reads. Refused when
 * the teacher did not read exactly the student's ids (its rows would not line up with the student's).
 */
export async function intermediateBatch(teacher: Teacher, plan: IntermediatePlan, batch: RowBatch, studentTokenizer: string): Promise<IntermediateBatch> {
  const out = await teacher.forward(
    { texts: batch.texts, student: { ids: batch.ids, tokenizerHash: studentTokenizer, maxLength: batch.maxLength } },
    { hiddenStates: plan.hidden.length > 0, projections: plan.relation.length > 0 },
  );
  if (!out.tokens.sameAsStudent) {
    throw new XlmtError({
      code: 'TOKENIZER_MISMATCH',
      where: { file: teacher.path, field: '--teacher-model' },
      message: `the teacher read other token ids than the student for ${batch.texts.length - out.tokens.fromStudent} of the batch's ${batch.texts.length} texts`,
      expected: 'the student\'s ids, token for token: intermediate-layer transfer compares the two models token by token',
      hint: 'train the student with the teacher\'s tokenizer and a --max-length the teacher allows',
    });
  }
  const rows = batch.texts.length * out.seq;
  const feeds: Record<string, TensorData> = {};
  for (const layer of new Set(plan.hidden.map((m) => m.teacher))) {
    feeds[teacherHiddenInput(layer)] = { dtype: 'float32', shape: [rows, plan.teacher.hiddenSize], data: out.hiddenStates?.[layer] as Float32Array };
  }
  for (const layer of new Set(plan.relation.map((m) => m.teacher))) {
    const projections = out.projections?.[layer - 1];
    const width = layerShape(plan.teacher, layer - 1).attentionSize;
    for (const relation of ATTENTION_RELATIONS) {
      feeds[teacherProjectionInput(relation, layer)] = { dtype: 'float32', shape: [rows, width], data: projections?.[relation] as Float32Array };
    }
  }
  return { logits: out.logits, feeds };
}
