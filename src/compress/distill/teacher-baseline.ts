// A baseline of `xlmt baseline train` (character and word n-gram TF-IDF, one logistic regression per task) as an
// online teacher. It reads whole texts (no tokenizer, no length limit) and gives each task's linear scores as
// logits: what its softmax or sigmoids turn into its probabilities, so Eq. 2's temperature softens them as it does
// an encoder's. It has no hidden states, so it teaches logits only, like an export.
//
// Its use is beside an encoder teacher: `--teacher-model runs/teacher --teacher-model emotion=runs/baseline`
// averages the two teachers' emotion logits (teacher-map.ts), an ensemble of models that err differently. On the
// texts it was fitted on, a baseline's outputs are close to their gold labels (xm-bench's emotion baseline scores
// 91 macro-F1 on its own training rows, 42.6 on dev). A baseline trained with out-of-fold models (`--folds K`,
// baseline/folds.ts) answers each text with the model of the text's fold instead, which was not fitted on it.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadBaseline, WEIGHTS_FILE } from '../../baseline/model-dir.ts';
import { scoreOutOfFold } from '../../baseline/folds.ts';
import type { BaselineModel } from '../../baseline/model.ts';
import type { Task } from '../../data/index.ts';
import type { OnlineTeacher, TeacherBatch } from './teacher.ts';

export async function openBaselineTeacher(path: string, dir: string): Promise<OnlineTeacher> {
  const { model, folds } = await loadBaseline(dir);
  return new BaselineTeacher(path, dir, model, folds, await baselineFingerprint(dir, model, folds.length));
}

/**
 * sha256 over the weights file, the feature settings and the tasks with their labels: what decides the logits.
 * Thresholds and provenance (the rest of baseline.json) are left out: they change no logit.
 */
async function baselineFingerprint(dir: string, model: BaselineModel, folds: number): Promise<string> {
  const weights = createHash('sha256').update(await readFile(join(dir, WEIGHTS_FILE))).digest('hex');
  const described = {
    weights: folds > 0 ? `baseline, out of ${folds} folds` : 'baseline',
    files: { [WEIGHTS_FILE]: weights },
    settings: model.settings.features,
    tasks: model.schema.tasks.map((t) => ({ name: t.name, type: t.type, labels: t.labels })),
  };
  return createHash('sha256').update(JSON.stringify(described)).digest('hex');
}

class BaselineTeacher implements OnlineTeacher {
  readonly kind = 'baseline' as const;
  readonly tasks: readonly Task[];

  constructor(
    readonly path: string,
    readonly dir: string,
    private readonly model: BaselineModel,
    /** Out-of-fold models, fold k's at k; empty: the full model answers every text. */
    private readonly folds: readonly BaselineModel[],
    readonly fingerprint: string,
  ) {
    this.tasks = model.schema.tasks;
  }

  logits(batch: TeacherBatch | readonly string[]): Promise<Map<string, Float32Array>> {
    const texts = 'texts' in batch ? batch.texts : batch;
    if (this.folds.length === 0) {
      const counts = this.model.counts(texts);
      return Promise.resolve(new Map(this.tasks.map((t) => [t.name, this.model.logits(counts, t.name)])));
    }
    return Promise.resolve(scoreOutOfFold(this.folds, texts, 'logits'));
  }

  release(): Promise<void> {
    return Promise.resolve();
  }
}
