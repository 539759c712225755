// Online teachers: a trained model (a run's best model or a model directory) or an export, run by ONNX Runtime on a
// batch beside the student. It gives logits per task and, for model directories, every layer's hidden states and
// attention projections. Texts are read with the student's ids where they are exactly the teacher's own encoding
// (teacher-encoding.ts), with the teacher's tokenizer otherwise.
//
// Cost: an online teacher adds its forward pass (forward() below, tokenization included when the tokenizers
// differ) to each step; teacher-cost.ts measures it per batch, and teacher-cache.ts stores a fixed transfer set's
// logits so later epochs and runs do not pay it again.
import { XlmtError } from '../../errors/index.ts';
import type { Task } from '../../data/index.ts';
import { paddedBatch } from '../../infer/batching.ts';
import type { EncoderConfig } from '../../models/config.ts';
import type { TextTokenizer } from '../../tokenize/index.ts';
import { teacherTokens, tokenizerHash, type TeacherBatch, type TeacherTokens } from './teacher-encoding.ts';
import { openBaselineTeacher } from './teacher-baseline.ts';
import { openExportTeacher } from './teacher-export.ts';
import { teacherFingerprint } from './teacher-fingerprint.ts';
import { openModelTeacher } from './teacher-model.ts';
import type { OpenedTeacher, ProjectionValues, StatesRequest, TeacherRunner } from './teacher-runner.ts';
import { locateTeacher, type TeacherKind } from './teacher-source.ts';

export type { TeacherBatch, StudentIds, TeacherTokens } from './teacher-encoding.ts';
export type { ProjectionValues, StatesRequest } from './teacher-runner.ts';
export type { TeacherKind } from './teacher-source.ts';

export interface TeacherOutputs {
  /** [batch, labels] float32 per task of the teacher, rows in the batch's order. */
  readonly logits: ReadonlyMap<string, Float32Array>;
  /** The ids the teacher read. */
  readonly tokens: TeacherTokens;
  /** The batch's padded length: hidden states and projections are [batch*seq, …], rows right-padded. */
  readonly seq: number;
  /** When asked: after each layer, the embeddings' first, [batch*seq, hidden] each. */
  readonly hiddenStates: readonly Float32Array[] | null;
  /** When asked: each layer's query, key and value projections. */
  readonly projections: readonly ProjectionValues[] | null;
}

/** What the map, the cache and the cost measurement need of a teacher: its tasks and its logits. */
export interface LogitsTeacher {
  readonly tasks: readonly Task[];
  logits(batch: TeacherBatch | readonly string[]): Promise<Map<string, Float32Array>>;
}

/** Any online teacher: an encoder (Teacher, below) or a baseline (teacher-baseline.ts), which gives logits only. */
export interface OnlineTeacher extends LogitsTeacher {
  /** The path given (a run, a model, an export or a baseline directory). */
  readonly path: string;
  readonly kind: TeacherKind;
  /** The directory read: RUN/best for a run. */
  readonly dir: string;
  /** Hash of what decides its outputs (teacher-fingerprint.ts): the key of its cached outputs. */
  readonly fingerprint: string;
  release(): Promise<void>;
}

/** An encoder run by ONNX Runtime: a run's best model, a model directory or an export. */
export interface Teacher extends OnlineTeacher {
  readonly tokenizer: TextTokenizer;
  readonly tokenizerHash: string;
  /** Texts are cut to this many tokens. */
  readonly maxLength: number;
  /** The encoder's shape; null for an export, which gives logits only. */
  readonly encoder: EncoderConfig | null;
  /** One forward pass over the batch as one padded batch (its rows in order). */
  forward(batch: TeacherBatch | readonly string[], states?: StatesRequest): Promise<TeacherOutputs>;
}

/** An encoder teacher, which can give hidden states and attention projections besides logits. */
export function isEncoderTeacher(teacher: OnlineTeacher): teacher is Teacher {
  return teacher.kind !== 'baseline';
}

export interface LoadTeacherOptions {
  /** ONNX Runtime intra-op threads (default: all cores). */
  readonly threads?: number;
  /** Cut texts to at most this many tokens (the student's length, so both read the same ids); default and cap: the teacher's own. */
  readonly maxLength?: number;
  /** The flag (or flag and value) that named the teacher, for errors. Default `--teacher-model`. */
  readonly flag?: string;
}

/** The teacher at `path`, whatever its kind: an encoder (loadTeacher) or a baseline. */
export async function loadOnlineTeacher(path: string, options: LoadTeacherOptions = {}): Promise<OnlineTeacher> {
  const source = locateTeacher(path, options.flag);
  return source.kind === 'baseline' ? openBaselineTeacher(path, source.dir) : loadTeacher(path, options);
}

/** An encoder teacher: a run, a model directory or an export (a baseline is refused: it has no encoder). */
export async function loadTeacher(path: string, options: LoadTeacherOptions = {}): Promise<Teacher> {
  const source = locateTeacher(path, options.flag);
  if (source.kind === 'baseline') {
    throw new XlmtError({
      code: 'TEACHER_NO_STATES', where: { file: path, field: options.flag ?? '--teacher-model' },
      message: 'a baseline gives logits only, and an encoder teacher was asked for', expected: 'a run, model or export directory',
    });
  }
  if (options.maxLength !== undefined && !(Number.isInteger(options.maxLength) && options.maxLength >= 2)) {
    throw new XlmtError({ code: 'BAD_ARGUMENT', where: { api: 'loadTeacher', field: 'maxLength' }, message: 'not a token count', expected: 'an integer ≥ 2', received: String(options.maxLength) });
  }
  const runnerOptions = options.threads ? { threads: options.threads } : {};
  const opened = source.kind === 'export' ? await openExportTeacher(source.dir, runnerOptions) : await openModelTeacher(source.dir, runnerOptions);
  try {
    const maxLength = Math.min(options.maxLength ?? opened.meta.maxLength, opened.meta.maxLength);
    const hash = tokenizerHash(opened.tokenizer);
    const fingerprint = await teacherFingerprint({
      weights: source.kind === 'export' ? 'export' : 'model', dir: source.dir, tokenizerHash: hash, tasks: opened.tasks, meta: opened.meta, maxLength,
    });
    return new OnnxTeacher(path, source.kind, source.dir, opened, hash, maxLength, fingerprint);
  } catch (e) {
    await opened.runner.release();
    throw e;
  }
}

class OnnxTeacher implements Teacher {
  readonly tasks: readonly Task[];
  readonly tokenizer: TextTokenizer;
  readonly encoder: EncoderConfig | null;
  private readonly padId: number;
  private readonly runner: TeacherRunner;

  constructor(
    readonly path: string,
    readonly kind: TeacherKind,
    readonly dir: string,
    opened: OpenedTeacher,
    readonly tokenizerHash: string,
    readonly maxLength: number,
    readonly fingerprint: string,
  ) {
    this.tasks = opened.tasks;
    this.tokenizer = opened.tokenizer;
    this.encoder = opened.encoder;
    this.padId = opened.meta.padId;
    this.runner = opened.runner;
  }

  async logits(batch: TeacherBatch | readonly string[]): Promise<Map<string, Float32Array>> {
    return new Map((await this.forward(batch)).logits);
  }

  async forward(batch: TeacherBatch | readonly string[], states: StatesRequest = {}): Promise<TeacherOutputs> {
    if ((states.hiddenStates || states.projections) && this.encoder === null) {
      const asked = [states.hiddenStates ? 'hidden states' : '', states.projections ? 'attention projections' : ''].filter(Boolean).join(' and ');
      throw new XlmtError({
        code: 'TEACHER_NO_STATES',
        where: { file: this.path },
        message: `${asked} were asked of an export, which gives logits only`,
        expected: 'a run or model directory as the teacher of intermediate-layer transfer',
        hint: 'give the run or model directory the export was made from',
      });
    }
    const asBatch: TeacherBatch = isTextList(batch) ? { texts: batch } : batch;
    const tokens = await teacherTokens(asBatch, this);
    if (tokens.ids.length === 0) {
      return { logits: new Map(this.tasks.map((t) => [t.name, new Float32Array(0)])), tokens, seq: 0, hiddenStates: states.hiddenStates ? [] : null, projections: states.projections ? [] : null };
    }
    const feeds = paddedBatch(tokens.ids, this.padId);
    const out = await this.runner.run(feeds, states);
    for (const task of this.tasks) this.checkLogits(task, out.logits.get(task.name), tokens.ids.length);
    const seq = Math.max(1, ...tokens.ids.map((row) => row.length));
    return { logits: out.logits, tokens, seq, hiddenStates: out.hiddenStates, projections: out.projections };
  }

  release(): Promise<void> {
    return this.runner.release();
  }

  /** Logits of the right size and finite: a NaN from a teacher would poison every step it touches. */
  private checkLogits(task: Task, logits: Float32Array | undefined, rows: number): void {
    const width = task.labels.length;
    if (!logits || logits.length !== rows * width) {
      throw new XlmtError({ code: 'BAD_MODEL', where: { file: this.runner.source, task: task.name }, message: 'the teacher gives no logits of the right size for this task', expected: `[${rows}, ${width}]`, received: logits ? `${logits.length} values` : 'none' });
    }
    const bad = logits.findIndex((v) => !Number.isFinite(v));
    if (bad < 0) return;
    throw new XlmtError({
      code: 'NON_FINITE',
      where: { file: this.runner.source, task: task.name },
      message: `the teacher's logit of ${JSON.stringify(task.labels[bad % width])} for text ${Math.floor(bad / width)} of the batch is ${logits[bad]}`,
      expected: 'finite logits',
      hint: 'the teacher computes NaN or Inf for this text: check its weights (xlmt eval), or leave the text out',
    });
  }
}

function isTextList(batch: TeacherBatch | readonly string[]): batch is readonly string[] {
  return Array.isArray(batch);
}
