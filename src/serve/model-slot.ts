// The model being served, and how it is replaced without dropping work: a reload loads and warms up the new
// model beside the old one, switches, and releases the old one once the batches it is running have finished.
import { toXlmtError } from '../errors/index.ts';
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

/**
 * Why a reload failed, as an answer: RELOAD_FAILED (422) when the directory is what is wrong (missing, not an
 * export, broken files: the request, or whoever sent SIGHUP, named it), INTERNAL (500) for a fault of the server.
 */
function reloadFailure(error: unknown, dir: string, serving: ModelInfo): ServeError {
  const cause = toXlmtError(error);
  if (cause.kind === 'internal') {
    return new ServeError('INTERNAL', `reloading ${dir} failed unexpectedly; still serving ${modelId(serving)}; the server log has the cause`, undefined, { cause: error });
  }
  return new ServeError('RELOAD_FAILED', `cannot load ${dir}: ${cause.problem}; still serving ${modelId(serving)}`, {
    dir, serving: modelId(serving), cause: { code: cause.code, message: cause.message },
  }, { cause: error });
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

  /** The first load; the service is ready once it resolves. A close meanwhile discards the model. */
  async start(): Promise<ServedModel> {
    if (this.current) throw new Error('the model slot is already started');
    const model = await this.loader(this.dir);
    if (this.closed) {
      await model.classifier.release();
      throw new ServeError('SHUTTING_DOWN', 'the server began shutting down while the model loaded; the model was discarded');
    }
    this.current = model;
    return model;
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
        throw reloadFailure(e, dir, previous.info);
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
