// Which examples form each batch: task sampling (proportional, temperature-scaled, round-robin), as a pure
// function of (seed, epoch) so a resumed run replays the same batches.
import { XlmtError } from '../errors/index.ts';
import { groupByLength } from '../util/length-groups.ts';
import { Random, mixSeed } from '../util/random.ts';

export type TaskSampling = 'proportional' | 'temperature' | 'round-robin';

export interface SamplerOptions {
  readonly batchSize: number;
  readonly sampling: TaskSampling;
  /** For 'temperature': p(task) ∝ n_task^(1/T). T = 1 is proportional; large T approaches uniform. */
  readonly temperature: number;
  readonly seed: number;
  /**
   * Token count per example and a window in batches: each task's shuffled queue is regrouped so a batch holds
   * texts of similar length (see util/length-groups.ts). Omitted or window ≤ 1: no grouping.
   */
  readonly lengths?: ArrayLike<number>;
  readonly groupWindow?: number;
}

export interface PlannedBatch {
  /** The task this batch was drawn for (its examples may carry other tasks' labels too). */
  readonly task: string;
  /** Indices into the dataset's examples. */
  readonly examples: readonly number[];
}

/** Each task's examples: those labeled for it. */
export type TaskMembers = ReadonlyMap<string, readonly number[]>;

/** Rows only online teachers label: how many, and the tasks the teachers cover, which the rows are drawn for. */
export interface TransferRows {
  readonly count: number;
  readonly tasks: readonly string[];
}

/**
 * The queues a run draws from: each gold example in the queue of every task it is labeled for; after them
 * (indices from `gold.length` on), each teacher row in the queue of one of the tasks it has scores for, taking
 * them in turn, so a row scored for every task is drawn about once an epoch rather than once per task; after
 * those, each transfer row in the queue of one of `transfer.tasks`, in turn likewise. A batch trains every task
 * its rows have targets for, whichever queue it was drawn from.
 */
export function taskMembers(
  gold: readonly { readonly labels: ReadonlyMap<string, unknown> }[],
  teacher: readonly { readonly soft: ReadonlyMap<string, unknown> }[],
  tasks: readonly { readonly name: string }[],
  transfer: TransferRows = { count: 0, tasks: [] },
): TaskMembers {
  const members = new Map(tasks.map((t) => [t.name, gold.flatMap((e, i) => (e.labels.has(t.name) ? [i] : []))]));
  teacher.forEach((row, j) => {
    const scored = tasks.filter((t) => row.soft.has(t.name));
    const task = scored[j % scored.length];
    if (task) members.get(task.name)?.push(gold.length + j);
  });
  const taught = tasks.filter((t) => transfer.tasks.includes(t.name));
  if (transfer.count > 0 && taught.length === 0) {
    throw new XlmtError({ code: 'BAD_ARGUMENT', where: { api: 'taskMembers', field: 'transfer' }, message: 'transfer rows with no task to draw them for', expected: 'the tasks online teachers cover', received: transfer.tasks.join(', ') || 'none' });
  }
  const first = gold.length + teacher.length;
  for (let k = 0; k < transfer.count; k++) members.get((taught[k % taught.length] as { name: string }).name)?.push(first + k);
  return members;
}

/**
 * The batches of one epoch. Every batch holds examples of one task, chosen per batch by the sampling rule; each
 * task's examples are drawn without replacement from a shuffled queue that is refilled when it runs out. An
 * epoch has ⌈Σ n_task / batchSize⌉ batches, so under proportional sampling each example is seen about once.
 */
export function planEpoch(members: TaskMembers, epoch: number, o: SamplerOptions): PlannedBatch[] {
  const tasks = [...members.entries()].filter(([, m]) => m.length > 0);
  if (tasks.length === 0) throw new XlmtError({ code: 'NO_LABELED_EXAMPLES', message: 'no task has labeled examples to train on', where: { field: '--train' } });
  const random = new Random(mixSeed(o.seed, epoch));
  const total = tasks.reduce((s, [, m]) => s + m.length, 0);
  const count = Math.ceil(total / o.batchSize);
  const weights = tasks.map(([, m]) => (o.sampling === 'temperature' ? m.length ** (1 / o.temperature) : m.length));
  const weightSum = weights.reduce((a, b) => a + b, 0);
  const refill = (queue: number[]): void => {
    random.shuffle(queue);
    if (o.lengths && o.groupWindow && o.groupWindow > 1) queue.splice(0, queue.length, ...groupByLength(queue, o.lengths, o.batchSize, o.groupWindow, random));
  };
  const queues = tasks.map(([, m]) => {
    const queue = [...m];
    refill(queue);
    return queue;
  });
  const cursors = tasks.map(() => 0);
  const batches: PlannedBatch[] = [];
  for (let b = 0; b < count; b++) {
    let t = b % tasks.length;
    if (o.sampling !== 'round-robin') {
      let u = random.next() * weightSum;
      t = 0;
      while (t < tasks.length - 1 && u >= (weights[t] as number)) u -= weights[t++] as number;
    }
    const queue = queues[t] as number[];
    const picked: number[] = [];
    while (picked.length < Math.min(o.batchSize, queue.length)) {
      if ((cursors[t] as number) >= queue.length) {
        refill(queue);
        cursors[t] = 0;
      }
      const at = cursors[t] as number;
      cursors[t] = at + 1;
      picked.push(queue[at] as number);
    }
    batches.push({ task: (tasks[t] as [string, readonly number[]])[0], examples: picked });
  }
  return batches;
}
