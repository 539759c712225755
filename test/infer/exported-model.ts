// A tiny trained and exported model for inference tests: two tasks (multiclass sentiment, multilabel topics),
// trained for a few seconds on the run fixture, then exported with `exportModel`.
import { join } from 'node:path';
import { exportModel, type ExportReport, type Quantization } from '../../src/export/export.ts';
import { parseTrainConfig } from '../../src/train/config.ts';
import { runTraining } from '../../src/train/run.ts';
import { runFixture, type RunFixture } from '../train/fixtures.ts';

export interface ExportedFixture {
  readonly data: RunFixture;
  /** The run directory (best model in best/). */
  readonly run: string;
  /** The export directory. */
  readonly dir: string;
  readonly report: ExportReport;
}

export interface ExportedOptions {
  readonly quantization?: Quantization;
  /** Changes the fixture's files before training (e.g. to keep one task). */
  readonly prepare?: (data: RunFixture) => void;
  /** Training settings over the defaults below. */
  readonly training?: Readonly<Record<string, unknown>>;
}

export async function exportedModel(options: ExportedOptions = {}): Promise<ExportedFixture> {
  const quantization = options.quantization ?? 'none';
  const data = await runFixture();
  options.prepare?.(data);
  const run = join(data.dir, 'run');
  await runTraining(parseTrainConfig({
    train: data.train, dev: data.dev, tasks: data.tasks, tokenizer: data.tokenizer, out: run,
    encoder: { layers: 1, hidden: 32, heads: 2, ffn: 64, maxPositions: 40 },
    maxLength: 16, batchSize: 8, epochs: 6, lr: 3e-3, patience: 0, checkpointEvery: 1000, threads: 1,
    ...options.training,
  }, 'test'), { log: () => {} });
  const dir = join(data.dir, 'export');
  const report = await exportModel(run, dir, { quantization, checkSample: 100, threads: 1 });
  return { data, run, dir, report };
}
