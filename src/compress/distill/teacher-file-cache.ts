// Today's teacher files (`train --teacher`: xlmt predict's JSONL with the text kept) read as a teacher cache: a
// text's logits per task scored for it, recovered from the file's probabilities as an export's are
// (teacher-logits.ts), so the soft targets they give back (probabilitiesFromLogits) are the file's. A text that
// appears on several rows gets, per task, the mean of their probabilities.
import type { TaskSchema } from '../../data/index.ts';
import type { TaskHead } from '../../models/heads.ts';
import { loadTeacher as loadTeacherFile, type TeacherRow } from '../../train/teacher.ts';
import { textKey, type TeacherLogitsSource } from './teacher-cache.ts';
import { logitsFromProbabilities } from './teacher-logits.ts';

export class TeacherFileCache implements TeacherLogitsSource {
  private constructor(
    readonly file: string,
    readonly tasks: readonly TaskHead[],
    /** The file's rows, as train --teacher reads them. */
    readonly rows: readonly TeacherRow[],
    private readonly byText: ReadonlyMap<string, ReadonlyMap<string, Float32Array>>,
  ) {}

  /** Reads and checks the file against the student's tasks, as train --teacher does (DataError per bad line). */
  static async read(file: string, schema: TaskSchema): Promise<TeacherFileCache> {
    const rows = await loadTeacherFile(file, schema);
    const sums = new Map<string, Map<string, { sum: Float64Array; n: number }>>();
    for (const row of rows) {
      const key = textKey(row.text);
      const perTask = sums.get(key) ?? new Map<string, { sum: Float64Array; n: number }>();
      for (const [task, p] of row.soft) {
        const entry = perTask.get(task) ?? { sum: new Float64Array(p.length), n: 0 };
        for (let j = 0; j < p.length; j++) entry.sum[j] = (entry.sum[j] as number) + (p[j] as number);
        entry.n++;
        perTask.set(task, entry);
      }
      sums.set(key, perTask);
    }
    const byText = new Map([...sums].map(([key, perTask]) => [key, new Map([...perTask].map(([name, { sum, n }]) => {
      // loadTeacherFile kept only tasks of the schema.
      const task = schema.tasks.find((t) => t.name === name) as TaskHead;
      return [name, logitsFromProbabilities(task.type, sum.map((v) => v / n))];
    }))]));
    return new TeacherFileCache(file, schema.tasks, rows, byText);
  }

  lookup(text: string): ReadonlyMap<string, Float32Array> | undefined {
    return this.byText.get(textKey(text));
  }
}
