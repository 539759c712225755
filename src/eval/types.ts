// The inputs every metric works from: a task's label space and one task's predictions over a set of examples.

export type TaskType = 'multiclass' | 'multilabel';

export interface Task {
  readonly name: string;
  readonly type: TaskType;
  /** Label names; a label's index here is its column in every [N, L] array. */
  readonly labels: readonly string[];
}

/** One gold label per example; the prediction is the argmax of `probs` (ties go to the lower index, as numpy's). */
export interface MulticlassPredictions {
  readonly type: 'multiclass';
  /** Gold label index per example, in [0, L). */
  readonly gold: ArrayLike<number>;
  /** Predicted probabilities, row-major. */
  readonly probs: Float32Array; // [N, L]
  /** Language of each example (an ISO code such as 'en'). */
  readonly langs: readonly string[];
}

/** A set of gold labels per example; an all-zero row is "none" (neutral), not a missing annotation. */
export interface MultilabelPredictions {
  readonly type: 'multilabel';
  /** 1 where the label applies, else 0, row-major. */
  readonly gold: Uint8Array; // [N, L]
  /** Predicted sigmoid probabilities, row-major; a label is predicted where its probability is >= its threshold. */
  readonly probs: Float32Array; // [N, L]
  readonly langs: readonly string[];
}

export type TaskPredictions = MulticlassPredictions | MultilabelPredictions;
