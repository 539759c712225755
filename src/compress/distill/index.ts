// The losses of distillation, as pieces of a training graph: Eq. 2 on the logits, hidden-state MSE through a
// projection, MiniLMv2's attention relations; and the names of the inputs and parameters they add.
export { distillationLoss, distillationLossOf, type DistillationOptions, type TaskTargets, teacherTermPerExample } from './kd-loss.ts';
export { hiddenStateTransferLoss, type Projection, projectedHiddenMse } from './hidden-mse.ts';
export { checkMatches, type LayerMatch } from './matches.ts';
export * from './names.ts';
export { ATTENTION_RELATIONS, attentionRelationLoss, type RelationOptions, relationKl } from './relation-kl.ts';
