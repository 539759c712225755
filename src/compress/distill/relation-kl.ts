// MiniLMv2's self-attention relation distillation (Wang et al., 2021): the student's query–query, key–key and
// value–value relations learn the teacher's. Both sides' vectors are re-split into the same number of relation
// heads, so neither the head counts nor the hidden sizes need to agree.
import type { GraphBuilder } from '../../builder/builder.ts';
import { XlmtError } from '../../errors/index.ts';
import type { Value } from '../../ir/graph.ts';
import { layerShape, type EncoderConfig } from '../../models/config.ts';
import type { EncoderStates } from '../../models/encoder.ts';
import { checkMatches, type LayerMatch } from './matches.ts';
import { type AttentionRelation, teacherProjectionInput } from './names.ts';

/** Added to the scores of padded keys, as the encoder masks them: exp underflows to exactly 0. */
const BLOCKED = -1e9;

export const ATTENTION_RELATIONS: readonly AttentionRelation[] = ['query', 'key', 'value'];

/** The width of [rows, size] vectors split into relation heads; refused unless `relationHeads` divides it. */
function relationHeadSize(x: Value, relationHeads: number, api: string): number {
  const size = x.shape[x.shape.length - 1];
  if (typeof size !== 'number' || !Number.isInteger(relationHeads) || relationHeads < 1 || size % relationHeads !== 0) {
    throw new XlmtError({
      code: 'BAD_ARGUMENT',
      message: `${relationHeads} relation heads cannot split vectors of size ${size}`,
      where: { api, tensor: x.name, field: 'relationHeads' },
      expected: 'a number of relation heads that divides both the teacher\'s and the student\'s query, key and value sizes',
    });
  }
  return size / relationHeads;
}

/**
 * log softmax(A_r·A_rᵀ/√d_r) per relation head r, A_r the r-th d_r-wide slice of each token's vector, keys that
 * are padding masked out. x [batch*seq, R·d_r], batchSeq the shape vector [batch, seq], keyMask [batch, 1, 1, seq]
 * → [batch, R, seq, seq]
 */
function logRelations(g: GraphBuilder, x: Value, batchSeq: Value, keyMask: Value, relationHeads: number, headSize: number): Value {
  const { op } = g;
  const split = op.Reshape(x, op.Concat([batchSeq, g.ints([relationHeads, headSize])], 0)); // [batch, seq, R, d_r]
  const heads = op.Transpose(split, [0, 2, 1, 3]); // [batch, R, seq, d_r]
  const scores = op.Mul(op.MatMul(heads, op.Transpose(heads, [0, 1, 3, 2])), 1 / Math.sqrt(headSize)); // [batch, R, seq, seq]
  return op.LogSoftmax(op.Add(scores, keyMask), { axis: -1 });
}

/**
 * KL(teacher relation ‖ student relation) for one kind of vector (queries, keys or values), averaged over the
 * relation heads and the non-padded query positions of the batch:
 *   (1/(R·T)) Σ_batch Σ_r Σ_query mask_q Σ_key T_r(q, key)·(log T_r(q, key) − log S_r(q, key)),
 * T the number of non-padded tokens (at least 1). student [batch*seq, sS], teacher [batch*seq, sT],
 * attentionMask [batch, seq] (1 for tokens, 0 for padding); R must divide sS and sT. → []
 */
export function relationKl(g: GraphBuilder, student: Value, teacher: Value, attentionMask: Value, relationHeads: number): Value {
  const { op } = g;
  const studentHead = relationHeadSize(student, relationHeads, 'relationKl');
  const teacherHead = relationHeadSize(teacher, relationHeads, 'relationKl');
  const batchSeq = op.Shape(attentionMask); // [batch, seq] as a shape vector
  const keyMask = op.Unsqueeze(op.Mul(op.Sub(1, attentionMask), BLOCKED), [1, 2]); // [batch, 1, 1, seq]
  const logT = logRelations(g, teacher, batchSeq, keyMask, relationHeads, teacherHead);
  const logS = logRelations(g, student, batchSeq, keyMask, relationHeads, studentHead);
  // Padded keys have T = 0 exactly, so their (finite) log difference adds nothing.
  const kl = op.ReduceSum(op.Mul(op.Exp(logT), op.Sub(logT, logS)), [3], { keepdims: false }); // [batch, R, seq]
  const perQuery = op.Mul(kl, op.Unsqueeze(attentionMask, [1])); // [batch, R, seq]
  const tokens = op.Max(op.ReduceSum(attentionMask, undefined, { keepdims: false }), g.scalar(1, attentionMask.dtype));
  return op.Div(op.ReduceSum(perQuery, undefined, { keepdims: false }), op.Mul(tokens, relationHeads));
}

export interface RelationOptions {
  /** R: both sides' query, key and value vectors are split into R heads of their own width. */
  readonly relationHeads: number;
  /** Which relations to sum; default all three, as in MiniLMv2. */
  readonly relations?: readonly AttentionRelation[];
}

/**
 * MiniLMv2's loss: per matched layer pair, the sum over the relations of relationKl; the mean over the pairs. The
 * student's vectors are EncoderStates.projections; the teacher's are fed as float32 inputs
 * `teacher_query|key|value:<layer>` [batch*seq, heads·headDim]. Layers count from 1 (matches.ts).
 */
export function attentionRelationLoss(g: GraphBuilder, student: { readonly config: EncoderConfig; readonly states: EncoderStates }, teacher: EncoderConfig, matches: readonly LayerMatch[], attentionMask: Value, options: RelationOptions): Value {
  const { op } = g;
  checkMatches(matches, { studentLayers: student.config.numHiddenLayers, teacherLayers: teacher.numHiddenLayers, first: 1, api: 'attentionRelationLoss' });
  const relations = options.relations ?? ATTENTION_RELATIONS;
  if (relations.length === 0) {
    throw new XlmtError({ code: 'BAD_ARGUMENT', message: 'no attention relation to distil', where: { api: 'attentionRelationLoss', field: 'relations' }, expected: 'some of query, key, value' });
  }
  const teacherInputs = new Map<string, Value>();
  const teacherVectors = (relation: AttentionRelation, layer: number): Value => {
    const name = teacherProjectionInput(relation, layer);
    const input = teacherInputs.get(name) ?? g.input(name, 'float32', ['batch*seq', layerShape(teacher, layer - 1).attentionSize]);
    teacherInputs.set(name, input);
    return input;
  };
  const losses = matches.flatMap((m) => {
    const projections = student.states.projections[m.student - 1];
    if (!projections) throw new XlmtError({ code: 'BAD_ARGUMENT', message: `the student's states have no layer ${m.student}`, where: { api: 'attentionRelationLoss', field: 'matches' } });
    return relations.map((relation) => relationKl(g, projections[relation], teacherVectors(relation, m.teacher), attentionMask, options.relationHeads));
  });
  const total = losses.length === 1 ? (losses[0] as Value) : op.Sum(...losses);
  return op.Div(total, matches.length);
}
