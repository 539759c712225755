// The names distillation adds to a training graph: the teacher's inputs (fed per batch) and the parameters that
// exist only while distilling (the hidden-state projections), which a saved student leaves out.

/** Prefix of every parameter that serves distillation only; a student's checkpoint leaves these out. */
export const DISTILL_PARAM_PREFIX = 'distill.';

export const isDistillationParam = (name: string): boolean => name.startsWith(DISTILL_PARAM_PREFIX);

/** The projection from a student layer's hidden size to its teacher layer's: `distill.projection.<layer>.weight|bias`. */
export const projectionParam = (studentLayer: number, part: 'weight' | 'bias'): string => `${DISTILL_PARAM_PREFIX}projection.${studentLayer}.${part}`;

/** MiniLMv2's three self-attention relations: query–query, key–key and value–value. */
export type AttentionRelation = 'query' | 'key' | 'value';

/** The teacher's logits for a task, float [batch, labels], before any temperature. */
export const teacherLogitsInput = (task: string): string => `teacher_logits:${task}`;

/** float [batch]: 1 where the teacher scored the example for the task, 0 where it did not (its logits row is ignored). */
export const teacherMaskInput = (task: string): string => `teacher_mask:${task}`;

/** The teacher's hidden states after layer `layer` (0: the embeddings), float [batch*seq, teacher hidden]. */
export const teacherHiddenInput = (layer: number): string => `teacher_hidden:${layer}`;

/** The teacher's query, key or value projection of layer `layer` (1-based), float [batch*seq, heads·headDim]. */
export const teacherProjectionInput = (relation: AttentionRelation, layer: number): string => `teacher_${relation}:${layer}`;
