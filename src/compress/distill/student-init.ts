// `xlmt init-student`: a student made from a teacher (student.ts), written as a model directory that `xlmt train
// --init` trains (and eval, export and the compression passes read), with how it was made in xlmt.json.
import { inputsOf, type OutputSpec, checkOutputDir } from '../../util/output-dir.ts';
import { loadModelDir } from '../../train/model-dir.ts';
import { resolveModelDir } from '../../train/assess.ts';
import { countParameters } from '../prune/layers.ts';
import { writeCompressed } from '../model-io.ts';
import type { StudentOptions, StudentShapeSpec } from './student-shape.ts';
import { type StudentRecord, studentFromTeacher } from './student.ts';

export interface InitStudentReport {
  /** The teacher's model directory (RUN/best for a run). */
  readonly teacher: string;
  readonly out: string;
  readonly pooling: string;
  readonly headStyle: string;
  readonly parametersTeacher: number;
  readonly parametersStudent: number;
  readonly record: StudentRecord;
}

/** Checks --out at once (a refusal writes nothing), builds the student, then writes it whole. */
export async function initStudent(teacherPath: string, out: string, spec: StudentShapeSpec, options: StudentOptions = {}): Promise<InitStudentReport> {
  const dir = resolveModelDir(teacherPath, '--teacher');
  const output: OutputSpec = { command: 'init-student', path: out, inputs: inputsOf({ '--teacher': teacherPath }) };
  checkOutputDir(output);
  const teacher = await loadModelDir(dir);
  const { model, record } = studentFromTeacher(teacher, spec, options);
  await writeCompressed(output, model, { command: 'init-student', from: dir, ...record });
  return {
    teacher: dir, out, pooling: model.meta.pooling, headStyle: model.meta.headStyle,
    parametersTeacher: countParameters(teacher.params), parametersStudent: countParameters(model.params), record,
  };
}
