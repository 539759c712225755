// Where a teacher given on the command line lives: a training run (its best model), a model directory, an export
// directory (onnx/model.onnx, fp32 or int8), or a baseline of xlmt baseline train (baseline.json), which gives
// logits only. Anything else is refused naming the flag and its value.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BASELINE_FILE } from '../../baseline/model-dir.ts';
import { WEIGHTS_FILE } from '../../checkpoint/index.ts';
import { XlmtError } from '../../errors/index.ts';
import { ONNX_DIR, ONNX_FILE } from '../../infer/contract.ts';
import { MODEL_META_FILE } from '../../model-dir/index.ts';
import { isExport } from '../../train/assess.ts';

export type TeacherKind = 'run' | 'model' | 'export' | 'baseline';

export interface TeacherSource {
  readonly kind: TeacherKind;
  /** The model or export directory read: RUN/best for a run. */
  readonly dir: string;
}

const WANTED = `a run directory of xlmt train, a model directory (${MODEL_META_FILE}, ${WEIGHTS_FILE}), an export directory (${MODEL_META_FILE}, ${ONNX_DIR}/${ONNX_FILE}) or a baseline directory (${BASELINE_FILE})`;

/** The teacher at `path`; `flag` is the flag (or flag and value) that named it, for errors. */
export function locateTeacher(path: string, flag = '--teacher-model'): TeacherSource {
  if (!existsSync(path)) {
    throw new XlmtError({ code: 'FILE_NOT_FOUND', where: { file: path, field: flag }, message: 'no such directory', expected: WANTED });
  }
  if (existsSync(join(path, MODEL_META_FILE))) return { kind: isExport(path) ? 'export' : 'model', dir: path };
  if (existsSync(join(path, BASELINE_FILE))) return { kind: 'baseline', dir: path };
  const best = join(path, 'best');
  if (existsSync(join(best, MODEL_META_FILE)) && !isExport(best)) return { kind: 'run', dir: best };
  throw new XlmtError({
    code: 'NOT_A_MODEL',
    where: { file: path, field: flag },
    message: 'not a model a teacher can be read from',
    expected: WANTED,
    received: `no ${MODEL_META_FILE}, best/${MODEL_META_FILE} or ${BASELINE_FILE}`,
    hint: 'a teacher is any model xlmt trains or exports, or a baseline of xlmt baseline train',
  });
}
