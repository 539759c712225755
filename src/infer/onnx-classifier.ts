// The classifier behind `xlmt serve` and `xlmt predict`: an exported model directory (Hugging Face layout with
// onnx/model.onnx, see contract.ts) run by ONNX Runtime. Texts are tokenized once, sorted by length and
// cut into batches, each padded only to its own longest text, so short texts do not pay for long ones.
import { openExportDir } from './export-dir.ts';
import type { ModelFile } from '../runtime/model-file.ts';
import type { ModelMeta } from '../model-dir/index.ts';
import { encodeIds, type TextTokenizer } from '../tokenize/index.ts';
import { batchedProbabilities } from './batching.ts';
import { decide, selectTasks, type Classifier, type TaskInfo, type TextPrediction } from './types.ts';

export interface OnnxClassifierOptions {
  /** ONNX Runtime intra-op threads (default: all cores). */
  readonly threads?: number;
  /** Texts per forward pass (default 32). */
  readonly batchSize?: number;
}

export class OnnxClassifier implements Classifier {
  readonly maxLength: number;

  private constructor(
    readonly dir: string,
    readonly tasks: readonly TaskInfo[],
    readonly meta: ModelMeta,
    private readonly tokenizer: TextTokenizer,
    private readonly model: ModelFile,
    private readonly batchSize: number,
  ) {
    this.maxLength = meta.maxLength;
  }

  static async load(dir: string, options: OnnxClassifierOptions = {}): Promise<OnnxClassifier> {
    const { meta, tasks: schemaTasks, tokenizer, model } = await openExportDir(dir, {
      ...(options.threads ? { threads: options.threads } : {}),
      notAnExportHint: `serving and prediction take a directory written by xlmt export; make one from a run or model directory with: xlmt export --model ${dir} --out ${dir}-export`,
    });
    const tasks: TaskInfo[] = schemaTasks.map((t) => {
      const thresholds = meta.thresholds[t.name];
      return { name: t.name, type: t.type, labels: t.labels, ...(t.type === 'multilabel' && thresholds ? { thresholds } : {}) };
    });
    return new OnnxClassifier(dir, tasks, meta, tokenizer, model, options.batchSize ?? 32);
  }

  /** Token ids per text, special tokens included, cut to maxLength; `truncated` marks the cut ones. */
  encode(texts: readonly string[]): Promise<{ ids: Int32Array[]; truncated: boolean[] }> {
    return encodeIds(this.tokenizer, texts, this.maxLength);
  }

  async classify(texts: readonly string[], taskNames?: readonly string[]): Promise<TextPrediction[]> {
    const tasks = selectTasks(this.tasks, taskNames);
    const { ids, truncated } = await this.encode(texts);
    const probs = await this.probabilities(ids, tasks);
    return texts.map((_, i) => {
      const perTask: Record<string, ReturnType<typeof decide>> = {};
      for (const task of tasks) {
        const width = task.labels.length;
        perTask[task.name] = decide(task, (probs.get(task.name) as Float32Array).subarray(i * width, (i + 1) * width));
      }
      return { tasks: perTask, truncated: truncated[i] as boolean };
    });
  }

  /** Probabilities [texts, labels] per task, rows in input order. */
  probabilities(ids: readonly Int32Array[], tasks: readonly TaskInfo[] = this.tasks): Promise<Map<string, Float32Array>> {
    return batchedProbabilities(this.model, ids, tasks, { padId: this.meta.padId, batchSize: this.batchSize });
  }

  /** One full-length batch through every kernel, so the first request does not pay for allocation. */
  async warmUp(): Promise<void> {
    const ids = Array.from({ length: this.batchSize }, () => new Int32Array(this.maxLength).fill(this.meta.padId === 0 ? 1 : 0));
    await this.probabilities(ids);
  }

  async release(): Promise<void> {
    await this.model.release();
  }
}
