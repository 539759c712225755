// The model being served, and how it is replaced without dropping work: a reload loads and warms up the new
// model beside the old one, switches, and releases the old one once the batches it is running have finished.
import type { Classifier } from '../infer/types.ts';
import { ServeError } from './errors.ts';

export interface ModelInfo {
  /** The export directory's name. */
  readonly name: string;
  /** A digest of the ONNX file: changes when the weights do. */
  readonly version: string;
  readonly dir: string;
}

export interface ServedModel {
  readonly classifier: Classifier;
  readonly info: ModelInfo;
}

/** Loads a model directory and warms it up: resolving means the model can answer at full speed. */
export type ModelLoader = (dir: string) => Promise<ServedModel>;

export const modelId = (info: ModelInfo): string => `${info.name}@${info.version}`;

export interface ReloadResult {
  readonly previous: ModelInfo;
  readonly current: ModelInfo;
}

export class ModelSlot {
  private current: ServedModel | null = null;
  private reloading = false;
  private closed = false;
  /** Batches running per model, so a retired model is released only when its last batch is done. */
  private readonly users = new Map<ServedModel, number>();
  private readonly idle = new Map<ServedModel, () => void>();

  constructor(private readonly loader: ModelLoader, private dir: string) {}

  get model(): ServedModel | null {
    return this.current;
  }

  get ready(): boolean {
    return this.current !== null && !this.closed;
  }

  /** The first load; the service is ready once it resolves. */
  async start(): Promise<ServedModel> {
    if (this.current) throw new Error('the model slot is already started');
    this.current = await this.loader(this.dir);
    return this.current;
  }

  /** Runs `work` on the current model; a reload meanwhile waits for it before releasing that model. */
  async use<T>(work: (model: ServedModel) => Promise<T>): Promise<T> {
    const model = this.current;
    if (!model) throw new ServeError('NOT_READY', 'the model is still loading; retry when /readyz answers 200');
    this.users.set(model, (this.users.get(model) ?? 0) + 1);
    try {
      return await work(model);
    } finally {
      const left = (this.users.get(model) ?? 1) - 1;
      if (left > 0) this.users.set(model, left);
      else {
        this.users.delete(model);
        this.idle.get(model)?.();
      }
    }
  }

  /** Loads `dir` (default: the directory served now), switches to it and releases the previous model. */
  async reload(dir: string = this.dir): Promise<ReloadResult> {
    if (this.closed) throw new ServeError('SHUTTING_DOWN', 'the server is shutting down; no reload');
    const previous = this.current;
    if (!previous) throw new ServeError('NOT_READY', 'the first model is still loading; reload once /readyz answers 200');
    if (this.reloading) throw new ServeError('RELOAD_IN_PROGRESS', 'a reload is already running; wait for it to finish');
    this.reloading = true;
    try {
      let next: ServedModel;
      try {
        next = await this.loader(dir);
      } catch (e) {
        throw new ServeError('RELOAD_FAILED', `cannot load ${dir}: ${(e as Error).message}; still serving ${modelId(previous.info)}`, {
          dir, serving: modelId(previous.info),
        });
      }
      if (this.closed) {
        await next.classifier.release();
        throw new ServeError('SHUTTING_DOWN', 'the server began shutting down during the reload; the new model was discarded');
      }
      this.current = next;
      this.dir = dir;
      await this.retire(previous);
      return { previous: previous.info, current: next.info };
    } finally {
      this.reloading = false;
    }
  }

  /** Releases the model once its running batches are done; later `use` calls get NOT_READY. */
  async close(): Promise<void> {
    this.closed = true;
    const model = this.current;
    this.current = null;
    if (model) await this.retire(model);
  }

  private async retire(model: ServedModel): Promise<void> {
    if (this.users.has(model)) {
      await new Promise<void>((resolve) => this.idle.set(model, resolve));
      this.idle.delete(model);
    }
    await model.classifier.release();
  }
}
