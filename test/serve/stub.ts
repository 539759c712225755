// A stub Classifier for the service tests: deterministic scores from keywords, a record of every batch it was
// given, and a gate that holds forward passes until the test lets them go (no timing in the tests).
import { afterEach } from 'vitest';
import { buildApp, type AppOptions, type ServeApp } from '../../src/serve/app.ts';
import type { ModelLoader, ServedModel } from '../../src/serve/model-slot.ts';
import { decide, selectTasks, type Classifier, type TaskInfo, type TextPrediction } from '../../src/infer/types.ts';

export const STUB_TASKS: readonly TaskInfo[] = [
  { name: 'sentiment', type: 'multiclass', labels: ['negative', 'positive'] },
  { name: 'topics', type: 'multilabel', labels: ['sports', 'politics'], thresholds: [0.5, 0.6] },
];

/** Holds whoever passes it while closed; `close` returns the function that opens it again. */
export class Gate {
  private closed: Promise<void> | null = null;

  close(): () => void {
    let open!: () => void;
    this.closed = new Promise((resolve) => { open = resolve; });
    return () => {
      this.closed = null;
      open();
    };
  }

  async pass(): Promise<void> {
    if (this.closed) await this.closed;
  }
}

export class StubClassifier implements Classifier {
  readonly maxLength = 8;
  /** Every classify call: its texts and tasks. */
  readonly batches: { texts: string[]; tasks: string[] | undefined }[] = [];
  released = false;
  /** Thrown by the next classify calls when set. */
  failWith: Error | null = null;
  /** Every score of the next classify calls is NaN when set, as a broken model's would be. */
  nonFinite = false;
  private readonly gate = new Gate();
  private arrived: (() => void)[] = [];

  constructor(readonly tasks: readonly TaskInfo[] = STUB_TASKS) {}

  /** Holds every forward pass from now on until the returned function is called. */
  hold(): () => void {
    return this.gate.close();
  }

  /** Resolves once `n` classify calls have started in total. */
  async started(n: number): Promise<void> {
    while (this.batches.length < n) await new Promise<void>((resolve) => this.arrived.push(resolve));
  }

  async classify(texts: readonly string[], tasks?: readonly string[]): Promise<TextPrediction[]> {
    const selected = selectTasks(this.tasks, tasks);
    this.batches.push({ texts: [...texts], tasks: tasks ? [...tasks] : undefined });
    for (const wake of this.arrived.splice(0)) wake();
    await this.gate.pass();
    if (this.failWith) throw this.failWith;
    return texts.map((text) => ({
      tasks: Object.fromEntries(selected.map((task) => [task.name, decide(task, stubProbs(task, text).map((p) => (this.nonFinite ? Number.NaN : p)))])),
      truncated: text.split(' ').length > this.maxLength - 2,
    }));
  }

  async release(): Promise<void> {
    this.released = true;
  }
}

/** "good" → positive 0.75 (else 0.25); "goal" → sports 0.875; "vote" → politics 0.625 (else 0.125 each). */
export function stubProbs(task: TaskInfo, text: string): number[] {
  if (task.name === 'sentiment') return text.includes('good') ? [0.25, 0.75] : [0.75, 0.25];
  return [text.includes('goal') ? 0.875 : 0.125, text.includes('vote') ? 0.625 : 0.125];
}

/** A loader handing out stub models v1, v2, …; `gate` holds a load until the test opens it. */
export class StubLoader {
  readonly loaded: ServedModel[] = [];
  readonly gate = new Gate();
  failWith: Error | null = null;
  /** Loads begun, finished or not. */
  calls = 0;
  /** The tasks of the models loaded from now on. */
  tasks: readonly TaskInfo[] = STUB_TASKS;

  readonly load: ModelLoader = async (dir) => {
    this.calls++;
    await this.gate.pass();
    if (this.failWith) throw this.failWith;
    const model = { classifier: new StubClassifier(this.tasks), info: { name: 'stub', version: `v${this.loaded.length + 1}`, dir } };
    this.loaded.push(model);
    return model;
  };

  classifier(i: number): StubClassifier {
    return this.loaded[i]?.classifier as StubClassifier;
  }

  /** Holds loads until the returned function is called. */
  hold(): () => void {
    return this.gate.close();
  }
}

export const STUB_LIMITS: AppOptions['limits'] = { maxTexts: 8, maxChars: 40, onLongText: 'truncate', bodyLimit: 4096 };
export const STUB_BATCHING: AppOptions['batching'] = { maxBatchSize: 4, maxWaitMs: 0, maxQueue: 16 };

export interface StubService extends ServeApp {
  readonly loader: StubLoader;
  /** The first model's classifier. */
  readonly stub: StubClassifier;
}

/** A started service on stub models (start: false leaves it loading). */
export async function stubService(overrides: Partial<AppOptions> = {}, start = true): Promise<StubService> {
  const loader = new StubLoader();
  const service = await buildApp({ dir: '/models/stub', loadModel: loader.load, limits: STUB_LIMITS, batching: STUB_BATCHING, ...overrides });
  if (start) await service.start();
  return { ...service, loader, get stub() { return loader.classifier(0); } };
}

/** A logger that keeps every JSON line it writes, for asserting what the service logs. */
export function capturedLog(level = 'info'): { logger: AppOptions['logger']; lines: () => Record<string, unknown>[] } {
  const text: string[] = [];
  return {
    logger: { level, stream: { write: (line: string) => { text.push(line); } } },
    lines: () => text.join('').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

/** stubService for a test file: every service it makes is closed after each test. */
export function stubServicesClosedAfterEach(): typeof stubService {
  const open: StubService[] = [];
  afterEach(async () => {
    for (const s of open.splice(0)) await s.app.close();
  });
  return async (...args) => {
    const s = await stubService(...args);
    open.push(s);
    return s;
  };
}
