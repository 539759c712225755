// Hidden-state transfer (XtremeDistil's stage 1, TextBrewer's hidden_mse with a projection): the student's hidden
// states, projected to the teacher's hidden size by a linear layer trained alongside, regress the teacher's.
import type { GraphBuilder } from '../../builder/builder.ts';
import { XlmtError } from '../../errors/index.ts';
import type { Value } from '../../ir/graph.ts';
import type { EncoderConfig } from '../../models/config.ts';
import type { EncoderStates } from '../../models/encoder.ts';
import { checkMatches, type LayerMatch } from './matches.ts';
import { projectionParam, teacherHiddenInput } from './names.ts';

/** A linear map from the student's hidden size to the teacher's: weight [teacher, student] (nn.Linear's layout), bias [teacher]. */
export interface Projection {
  readonly weight: Value;
  readonly bias: Value;
}

/**
 * (1/(T·H)) Σ_tokens mask_t Σ_j ((W·s_t + b)_j − h_tj)², T the number of non-padded tokens (at least 1), H the
 * teacher's hidden size: the mean squared error over the teacher's dimensions and the batch's real tokens.
 * student [batch*seq, hS], teacher [batch*seq, H], attentionMask [batch, seq] (1 for tokens, 0 for padding) → []
 */
export function projectedHiddenMse(g: GraphBuilder, student: Value, teacher: Value, attentionMask: Value, projection: Projection): Value {
  const { op } = g;
  const size = projection.weight.shape[0];
  if (typeof size !== 'number') {
    throw new XlmtError({ code: 'BAD_ARGUMENT', message: 'the projection\'s output size is not known', where: { api: 'projectedHiddenMse', tensor: projection.weight.name }, expected: 'a weight of static shape [teacher hidden, student hidden]' });
  }
  const projected = op.Gemm(student, projection.weight, projection.bias, { transB: 1 }); // [batch*seq, H]
  const diff = op.Sub(projected, teacher);
  const tokenMask = op.Reshape(attentionMask, [-1, 1]); // [batch*seq, 1]
  const squared = op.ReduceSum(op.Mul(op.Mul(diff, diff), tokenMask), undefined, { keepdims: false });
  const tokens = op.Max(op.ReduceSum(attentionMask, undefined, { keepdims: false }), g.scalar(1, attentionMask.dtype));
  return op.Div(squared, op.Mul(tokens, size));
}

/**
 * The mean over `matches` of projectedHiddenMse, the student's hidden states (EncoderStates.hiddenStates) against the
 * teacher's, fed as float32 inputs `teacher_hidden:<layer>` [batch*seq, teacher hidden]. Each matched student layer
 * gets its projection as parameters `distill.projection.<student layer>.weight|bias`, which a saved student leaves
 * out (names.ts).
 */
export function hiddenStateTransferLoss(g: GraphBuilder, student: { readonly config: EncoderConfig; readonly states: EncoderStates }, teacher: EncoderConfig, matches: readonly LayerMatch[], attentionMask: Value): Value {
  const { op } = g;
  checkMatches(matches, { studentLayers: student.config.numHiddenLayers, teacherLayers: teacher.numHiddenLayers, first: 0, api: 'hiddenStateTransferLoss' });
  const teacherStates = new Map<number, Value>();
  const losses = matches.map((m) => {
    const target = teacherStates.get(m.teacher) ?? g.input(teacherHiddenInput(m.teacher), 'float32', ['batch*seq', teacher.hiddenSize]);
    teacherStates.set(m.teacher, target);
    const projection = {
      weight: g.paramNamed(projectionParam(m.student, 'weight'), [teacher.hiddenSize, student.config.hiddenSize]),
      bias: g.paramNamed(projectionParam(m.student, 'bias'), [teacher.hiddenSize]),
    };
    return projectedHiddenMse(g, student.states.hiddenStates[m.student] as Value, target, attentionMask, projection);
  });
  const total = losses.length === 1 ? (losses[0] as Value) : op.Sum(...losses);
  return op.Div(total, matches.length);
}
