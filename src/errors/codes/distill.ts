// Codes of distillation: online teachers (--teacher-model), the map from the student's tasks to its teachers, and
// the on-disk cache of a teacher's outputs.
import type { CodeTable } from '../types.ts';

export const distillCodes = {
  TEACHER_TASK_UNCOVERED: { kind: 'usage', summary: 'a task of the student has no teacher among the --teacher-model values (and gold-only tasks were not allowed)' },
  TEACHER_LACKS_TASK: { kind: 'usage', summary: 'a --teacher-model value maps a task to a teacher that does not have it, or a teacher has none of the student\'s tasks' },
  TEACHER_LABELS_DIFFER: { kind: 'usage', summary: 'a teacher\'s labels for a task (their names, order or the task type) differ from the student\'s' },
  TEACHER_NO_STATES: { kind: 'usage', summary: 'hidden states or attention projections were asked of an export teacher, which gives logits only' },
  TEACHER_CACHE_INVALID: { kind: 'input', summary: 'a teacher cache file is unreadable, not a teacher cache, or holds another teacher\'s outputs or other tasks; `where.file` names it' },
} as const satisfies CodeTable;
