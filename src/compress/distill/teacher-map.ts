// Which teachers teach which of the student's tasks. `--teacher-model DIR` teaches every task of the student that
// DIR has; `--teacher-model sentiment=DIR_A --teacher-model topic,emotion=DIR_B` names the tasks (Campos et al.'s
// task-specific teachers into one multi-task student). Several teachers of one task average their logits. Refused,
// naming the flag value: a student task no teacher covers (unless gold-only tasks are allowed), a teacher lacking a
// task it is given, labels (names, order or type) other than the student's, a path that is not a model.
//
// A value is TASK[,TASK…]=DIR when the text before its first `=` is a comma-separated list of task names; a
// directory whose name starts like that is given as ./name=… .
import { didYouMean, oneOf } from '../../data/suggest.ts';
import { XlmtError } from '../../errors/index.ts';
import { TASK_NAME, type TaskHead } from '../../models/heads.ts';
import { loadOnlineTeacher, type LoadTeacherOptions, type LogitsTeacher, type OnlineTeacher, type TeacherBatch } from './teacher.ts';
import { locateTeacher } from './teacher-source.ts';

export const TEACHER_FLAG = '--teacher-model';

export interface TeacherAssignment {
  /** The flag's value as given. */
  readonly value: string;
  /** The tasks it names; null for a bare DIR: every task of the student's that the teacher has. */
  readonly tasks: readonly string[] | null;
  readonly path: string;
}

/** Characters of a task list: what decides that `a,b=DIR` maps tasks rather than names a path holding `=`. */
const TASK_LIST = /^[A-Za-z0-9_,-]*$/;

export function parseTeacherFlags(values: readonly string[], flag = TEACHER_FLAG): TeacherAssignment[] {
  return values.map((value) => {
    const at = value.indexOf('=');
    const prefix = at < 0 ? '' : value.slice(0, at);
    if (value.trim() === '') throw badValue(flag, value, 'is empty');
    if (at < 0 || !TASK_LIST.test(prefix)) return { value, tasks: null, path: value };
    const tasks = prefix.split(',');
    const path = value.slice(at + 1);
    const bad = tasks.find((t) => !TASK_NAME.test(t));
    if (bad !== undefined) throw badValue(flag, value, bad === '' ? 'names an empty task' : `names no task: ${JSON.stringify(bad)}`);
    const repeated = tasks.find((t, i) => tasks.indexOf(t) !== i);
    if (repeated !== undefined) throw badValue(flag, value, `names task ${JSON.stringify(repeated)} twice`);
    if (path === '') throw badValue(flag, value, 'names no directory after "="');
    return { value, tasks, path };
  });
}

function badValue(flag: string, value: string, problem: string): XlmtError {
  return new XlmtError({
    code: 'BAD_OPTION',
    where: { field: flag },
    message: `${JSON.stringify(value)} ${problem}`,
    expected: 'DIR (every task the teacher has) or TASK[,TASK…]=DIR',
  });
}

export interface TeacherMapOptions {
  /** Let student tasks no teacher covers learn from gold labels alone (default: refused). */
  readonly allowGoldOnly?: boolean;
  readonly flag?: string;
}

/**
 * The student's tasks → their teachers, in the student's task order, checked (see the file's head). `teachers[i]`
 * is the teacher loaded for `assignments[i]`; one teacher object may serve several assignments.
 */
export function assignTeachers<T extends { readonly tasks: readonly TaskHead[] }>(
  assignments: readonly TeacherAssignment[],
  teachers: readonly T[],
  student: readonly TaskHead[],
  options: TeacherMapOptions = {},
): Map<string, T[]> {
  const flag = options.flag ?? TEACHER_FLAG;
  const studentNames = student.map((t) => t.name);
  const byTask = new Map<string, T[]>();
  assignments.forEach((assignment, i) => {
    const teacher = teachers[i] as T;
    const where = { field: `${flag} ${assignment.value}` };
    const teacherNames = teacher.tasks.map((t) => t.name);
    const names = assignment.tasks ?? studentNames.filter((name) => teacherNames.includes(name));
    if (names.length === 0) {
      throw new XlmtError({ code: 'TEACHER_LACKS_TASK', where, message: 'the teacher has none of the student\'s tasks', expected: oneOf(studentNames), received: `tasks ${listed(teacherNames)}` });
    }
    for (const name of names) {
      const own = student.find((t) => t.name === name);
      if (!own) {
        throw new XlmtError({ code: 'BAD_OPTION', where, message: `the student has no task ${JSON.stringify(name)}`, expected: oneOf(studentNames), ...hintFor(name, studentNames) });
      }
      const taught = teacher.tasks.find((t) => t.name === name);
      if (!taught) {
        throw new XlmtError({
          code: 'TEACHER_LACKS_TASK', where: { ...where, task: name }, message: `the teacher has no task ${JSON.stringify(name)}`,
          expected: `a teacher with task ${JSON.stringify(name)}`, received: `tasks ${listed(teacherNames)}`, ...hintFor(name, teacherNames),
        });
      }
      checkLabels(own, taught, where.field);
      const list = byTask.get(name) ?? [];
      if (!list.includes(teacher)) list.push(teacher);
      byTask.set(name, list);
    }
  });
  const uncovered = studentNames.filter((name) => !byTask.has(name));
  if (uncovered.length > 0 && !options.allowGoldOnly) {
    throw new XlmtError({
      code: 'TEACHER_TASK_UNCOVERED',
      where: { field: flag, task: uncovered[0] as string },
      message: `no teacher covers task${uncovered.length > 1 ? 's' : ''} ${uncovered.map((n) => JSON.stringify(n)).join(', ')} of the student`,
      expected: 'a teacher for every task of the student',
      received: assignments.length === 0 ? 'no teacher' : assignments.map((a) => a.value).join(', '),
      hint: `add ${flag} ${uncovered.join(',')}=DIR with a teacher that has ${uncovered.length > 1 ? 'these tasks' : 'it'}`,
    });
  }
  return new Map(student.flatMap((t) => (byTask.has(t.name) ? [[t.name, byTask.get(t.name) as T[]] as const] : [])));
}

/** `"a", "b"`: a model's tasks, a short list. */
function listed(names: readonly string[]): string {
  return names.map((n) => JSON.stringify(n)).join(', ');
}

function hintFor(name: string, choices: readonly string[]): { hint?: string } {
  const hint = didYouMean(name, choices);
  return hint === undefined ? {} : { hint };
}

function checkLabels(student: TaskHead, teacher: TaskHead, field: string): void {
  const same = student.type === teacher.type && student.labels.length === teacher.labels.length && student.labels.every((l, i) => teacher.labels[i] === l);
  if (same) return;
  throw new XlmtError({
    code: 'TEACHER_LABELS_DIFFER',
    where: { field, task: student.name },
    message: 'the teacher\'s labels for this task differ from the student\'s',
    expected: `${student.type} ${JSON.stringify(student.labels)} (the student's, in its order)`,
    received: `${teacher.type} ${JSON.stringify(teacher.labels)}`,
    hint: 'a teacher\'s logits are read label by label in the student\'s order: train the teacher on the same tasks.json',
  });
}

/** The student's tasks with their teachers; a task's logits are the mean of its teachers'. */
export class TeacherMap<T extends LogitsTeacher = LogitsTeacher> {
  constructor(
    readonly byTask: ReadonlyMap<string, readonly T[]>,
    readonly student: readonly TaskHead[],
  ) {}

  /** Every teacher once, in the order first assigned. */
  get teachers(): T[] {
    return [...new Set([...this.byTask.values()].flat())];
  }

  /** Tasks of the student no teacher covers (allowed by allowGoldOnly): they learn from gold labels alone. */
  get goldOnlyTasks(): string[] {
    return this.student.filter((t) => !this.byTask.has(t.name)).map((t) => t.name);
  }

  /** [batch, labels] per task with a teacher: each teacher runs once on the batch, a task averages its teachers. */
  async logits(batch: TeacherBatch | readonly string[]): Promise<Map<string, Float32Array>> {
    const outputs = new Map<T, Map<string, Float32Array>>();
    for (const teacher of this.teachers) outputs.set(teacher, await teacher.logits(batch));
    const mean = new Map<string, Float32Array>();
    for (const [task, teachers] of this.byTask) {
      const rows = teachers.map((t) => outputs.get(t)?.get(task) as Float32Array);
      const sum = Float32Array.from(rows[0] as Float32Array);
      for (const more of rows.slice(1)) for (let i = 0; i < sum.length; i++) sum[i] = (sum[i] as number) + (more[i] as number);
      if (rows.length > 1) for (let i = 0; i < sum.length; i++) sum[i] = (sum[i] as number) / rows.length;
      mean.set(task, sum);
    }
    return mean;
  }
}

/** Loaded teachers of a map; release() releases every one. */
export class LoadedTeacherMap extends TeacherMap<OnlineTeacher> {
  async release(): Promise<void> {
    for (const teacher of this.teachers) await teacher.release();
  }
}

/**
 * Parses the --teacher-model values, loads each teacher once (a run and its best/ are one teacher) and checks the
 * map against the student's tasks. On any refusal, every teacher loaded so far is released.
 */
export async function loadTeacherMap(values: readonly string[], student: readonly TaskHead[], options: TeacherMapOptions & Omit<LoadTeacherOptions, 'flag'> = {}): Promise<LoadedTeacherMap> {
  const flag = options.flag ?? TEACHER_FLAG;
  const assignments = parseTeacherFlags(values, flag);
  const byDir = new Map<string, OnlineTeacher>();
  const teachers: OnlineTeacher[] = [];
  try {
    for (const assignment of assignments) {
      const field = `${flag} ${assignment.value}`;
      const { dir } = locateTeacher(assignment.path, field);
      const teacher = byDir.get(dir) ?? await loadOnlineTeacher(assignment.path, { ...loadOptions(options), flag: field });
      byDir.set(dir, teacher);
      teachers.push(teacher);
    }
    return new LoadedTeacherMap(assignTeachers(assignments, teachers, student, options), student);
  } catch (e) {
    for (const teacher of byDir.values()) await teacher.release();
    throw e;
  }
}

function loadOptions(options: Omit<LoadTeacherOptions, 'flag'>): LoadTeacherOptions {
  return { ...(options.threads === undefined ? {} : { threads: options.threads }), ...(options.maxLength === undefined ? {} : { maxLength: options.maxLength }) };
}
