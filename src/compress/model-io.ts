// What every compression pass does around its own work: read a trained model (a run's best model or a model
// directory), and write the result as a new model directory that eval, export, serve, predict, `train --init`
// and the next pass take as they are. Each output records, in xlmt.json's info.compression, every pass that led
// to it, so a compressed model says where it came from.
import type { TrainedModel } from '../train/model-dir.ts';
import { loadModelDir, writeModelFiles } from '../train/model-dir.ts';
import { resolveModelDir } from '../train/assess.ts';
import { checkOutputDir, inputsOf, type OutputCommand, type OutputSpec, writeOutputDir } from '../util/output-dir.ts';

export interface CompressionInput {
  /** The model directory read (RUN/best for a run). */
  readonly dir: string;
  readonly model: TrainedModel;
}

/** One pass, as recorded in the output: the command, its source and its settings. */
export interface CompressionStep {
  readonly command: OutputCommand;
  readonly from: string;
  readonly [setting: string]: unknown;
}

/**
 * Resolves --model, checks `out` before any work (a refusal comes at once, nothing written), then loads the
 * model. `inputs`: every path flag the command reads, --model included, so that --out cannot overwrite one.
 */
export async function readForCompression(command: OutputCommand, modelPath: string, out: string, inputs: Readonly<Record<string, string | readonly string[] | undefined>>): Promise<CompressionInput & { output: OutputSpec }> {
  const dir = resolveModelDir(modelPath);
  const output: OutputSpec = { command, path: out, inputs: inputsOf(inputs) };
  checkOutputDir(output);
  return { dir, model: await loadModelDir(dir), output };
}

/** The passes that made `model`, oldest first. */
export function compressionHistory(model: TrainedModel): CompressionStep[] {
  const recorded = model.meta.info['compression'];
  return Array.isArray(recorded) ? (recorded as CompressionStep[]) : [];
}

/**
 * Writes the compressed model whole into `output` (replacing an earlier output of the same command only). A pass
 * that changes the encoder's structure changes its activations, so the input ranges a QAT run recorded
 * (`quantization`) no longer describe it and are left out; the record of the step says they were.
 */
export async function writeCompressed(output: OutputSpec, model: TrainedModel, step: CompressionStep): Promise<void> {
  const { quantization, ...meta } = model.meta;
  const recorded = quantization === undefined ? step : { ...step, droppedQuantization: 'the QAT input ranges no longer describe the compressed encoder' };
  const info = { ...model.meta.info, compression: [...compressionHistory(model), recorded] };
  await writeOutputDir(output, (tmp) => writeModelFiles(tmp, { ...model, meta: { ...meta, info } }));
}
