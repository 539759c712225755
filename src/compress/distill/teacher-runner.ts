// What runs a teacher's forward pass on one padded batch, whatever the teacher is: a model directory's graph built
// here (logits and internals) or an export's ONNX file (logits only). teacher.ts puts encoding and checks around it.
import type { Task } from '../../data/index.ts';
import type { TensorData } from '../../ir/tensor.ts';
import type { ModelMeta } from '../../model-dir/index.ts';
import type { EncoderConfig } from '../../models/config.ts';
import type { TextTokenizer } from '../../tokenize/index.ts';

/** A layer's query, key and value projections, [batch*seq, heads kept·headDim] each. */
export interface ProjectionValues {
  readonly query: Float32Array;
  readonly key: Float32Array;
  readonly value: Float32Array;
}

export interface StatesRequest {
  /** Every layer's hidden states, the embeddings' first. */
  readonly hiddenStates?: boolean;
  /** Every layer's attention projections (MiniLMv2's relations). */
  readonly projections?: boolean;
}

export interface RunnerOutputs {
  /** [batch, labels] per task of the teacher. */
  readonly logits: Map<string, Float32Array>;
  readonly hiddenStates: Float32Array[] | null;
  readonly projections: ProjectionValues[] | null;
}

export interface TeacherRunner {
  /** The file its errors name: the model directory or the ONNX file. */
  readonly source: string;
  run(feeds: Readonly<Record<string, TensorData>>, states: StatesRequest): Promise<RunnerOutputs>;
  release(): Promise<void>;
}

/** A teacher directory read: its description, and the runner over its weights. */
export interface OpenedTeacher {
  readonly tasks: readonly Task[];
  readonly tokenizer: TextTokenizer;
  readonly meta: ModelMeta;
  /** The encoder's shape; null for an export, whose internals are not outputs. */
  readonly encoder: EncoderConfig | null;
  readonly runner: TeacherRunner;
}

export interface RunnerOptions {
  /** ONNX Runtime intra-op threads (default: all cores). */
  readonly threads?: number;
}
