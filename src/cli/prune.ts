// `xlmt prune layers`, `heads-ffn` and `hidden`: structural pruning passes, each a model directory in and a
// smaller one out (src/compress/prune/).
import { Command, InvalidArgumentError, Option } from 'commander';
import { type HeadsFfnReport, PRUNE_METHODS, type PruneMethod, pruneHeadsFfn } from '../compress/prune/heads-ffn.ts';
import { HIDDEN_COMPENSATIONS, HIDDEN_METHODS, type HiddenCompensation, type HiddenMethod, pruneHidden } from '../compress/prune/hidden.ts';
import { LAYER_STRATEGIES, type LayerStrategy, pruneLayers } from '../compress/prune/layers.ts';
import { XlmtError } from '../errors/index.ts';
import { nonNegativeInt, positiveInt } from './options.ts';

interface LayersFlags {
  model: string;
  out: string;
  keep?: number[];
  keepCount?: number;
  strategy: LayerStrategy;
}

/** `0,2,4` as [0, 2, 4]: integers ≥ 0, in the order given (the pass checks range and repeats against the model). */
export function indexList(flag: string): (value: string) => number[] {
  return (value) => {
    const parts = value.split(',').map((s) => s.trim());
    if (parts.some((s) => !/^\d+$/.test(s))) throw new InvalidArgumentError(`${flag} expects comma-separated integers such as 0,2,4, got "${value}"`);
    return parts.map(Number);
  };
}

function layersCommand(): Command {
  return new Command('layers')
    .description('keep some of the encoder\'s layers (for train --init, eval, export, serve)')
    .requiredOption('--model <dir>', 'run or model directory')
    .requiredOption('--out <dir>', 'model directory to write: new, empty, or an earlier output of prune layers (replaced atomically)')
    .option('--keep <list>', 'the layers to keep, e.g. 0,2,4,6,8,10', indexList('--keep'))
    .option('--keep-count <n>', 'how many layers to keep, chosen by --strategy', positiveInt('--keep-count'))
    .addOption(new Option('--strategy <kind>', 'with --keep-count: drop the top layers (default: loses least, Sajjad et al.), the bottom ones, or keep every other layer').choices(LAYER_STRATEGIES).default('top'))
    .action(async (flags: LayersFlags) => {
      if ((flags.keep === undefined) === (flags.keepCount === undefined)) {
        throw new XlmtError({ code: 'BAD_OPTION', where: { field: '--keep' }, message: 'name the layers to keep with --keep or --keep-count, not both', hint: 'e.g. --keep 0,2,4,6,8,10 or --keep-count 6' });
      }
      const choice = flags.keep ? { keep: flags.keep } : { keepCount: flags.keepCount as number, strategy: flags.strategy };
      const r = await pruneLayers(flags.model, flags.out, choice);
      const share = (100 * r.parametersAfter) / r.parametersBefore;
      console.log(`wrote ${r.out}: layers ${r.kept.join(', ')} of ${r.layersBefore}; ${r.parametersAfter.toLocaleString('en')} parameters (${share.toFixed(1)}% of ${r.parametersBefore.toLocaleString('en')})`);
    });
}

interface HeadsFfnFlags {
  model: string;
  data: string;
  tasks?: string;
  out: string;
  heads?: number;
  headsPerLayer?: number[];
  ffn?: number;
  iterations: number;
  even: boolean;
  method: PruneMethod;
  samples: number;
  batchSize: number;
  threads: number;
  seed: number;
  json: boolean;
}

/** The pruning report as text: shapes per layer, size, and how much of each task's importance survived. */
export function headsFfnReportText(r: HeadsFfnReport): string {
  const percent = (x: number): string => `${(100 * x).toFixed(1)}%`;
  return [
    `wrote ${r.out} (${r.method}, ${r.rounds} round${r.rounds === 1 ? '' : 's'}): ${r.parametersAfter.toLocaleString('en')} parameters, ${percent(r.parametersAfter / r.parametersBefore)} of ${r.parametersBefore.toLocaleString('en')}`,
    `heads per layer: ${r.headsPerLayer.join(' ')}`,
    `FFN per layer:   ${r.ffnPerLayer.join(' ')}`,
    `cut model against the masked one: max |Δ logit| ${r.checkMaxDiff.toExponential(2)}`,
    '',
    '| task | examples scored | head importance kept | FFN importance kept |',
    '|---|---:|---:|---:|',
    ...r.survival.map((s) => `| ${s.task} | ${s.examples} | ${percent(s.heads)} | ${percent(s.neurons)} |`),
  ].join('\n');
}

function headsFfnCommand(): Command {
  return new Command('heads-ffn')
    .description('remove attention heads and FFN neurons by their importance on labeled data (iterative, multi-task aware), then cut the matrices')
    .requiredOption('--model <dir>', 'run or model directory')
    .requiredOption('--data <file>', 'labeled data to measure importance on (the training data, usually)')
    .option('--tasks <file>', 'task schema, checked against the model\'s')
    .requiredOption('--out <dir>', 'model directory to write: new, empty, or an earlier output of prune heads-ffn (replaced atomically)')
    .option('--heads <n>', 'heads to keep per layer: on average (global ranking), or in every layer with --even', positiveInt('--heads'))
    .option('--heads-per-layer <list>', 'heads to keep in each layer, e.g. 6,6,4,4', indexList('--heads-per-layer'))
    .option('--ffn <n>', 'FFN neurons to keep per layer: on average, or in every layer with --even', positiveInt('--ffn'))
    .option('--iterations <k>', 'rounds, importance measured again on the pruned model each round', positiveInt('--iterations'), 4)
    .option('--even', 'the same count in every layer instead of a global ranking', false)
    .addOption(new Option('--method <kind>', 'rank by importance, or at random (a baseline)').choices(PRUNE_METHODS).default('importance'))
    .option('--samples <n>', 'labeled examples per task to score (at most)', positiveInt('--samples'), 1000)
    .option('--batch-size <n>', 'examples per batch', positiveInt('--batch-size'), 32)
    .option('--threads <n>', 'ONNX Runtime threads', positiveInt('--threads'), 2)
    .option('--seed <n>', 'seed of the sample (and of --method random)', nonNegativeInt('--seed'), 42)
    .option('--json', 'print one JSON object', false)
    .action(async (flags: HeadsFfnFlags) => {
      const report = await pruneHeadsFfn(flags.model, flags.out, {
        data: flags.data, iterations: flags.iterations, even: flags.even, method: flags.method, samples: flags.samples,
        batchSize: flags.batchSize, threads: flags.threads, seed: flags.seed,
        ...(flags.tasks ? { tasks: flags.tasks } : {}),
        ...(flags.heads !== undefined ? { heads: flags.heads } : {}),
        ...(flags.headsPerLayer ? { headsPerLayer: flags.headsPerLayer } : {}),
        ...(flags.ffn !== undefined ? { ffn: flags.ffn } : {}),
        ...(flags.json ? {} : { log: (line: string) => console.error(line) }),
      });
      console.log(flags.json ? JSON.stringify(report, null, 2) : headsFfnReportText(report));
    });
}

interface HiddenFlags {
  model: string;
  out: string;
  keep: number;
  method: HiddenMethod;
  compensation: HiddenCompensation;
  data?: string;
  samples: number;
  batchSize: number;
  threads: number;
  seed: number;
  json: boolean;
}

function hiddenCommand(): Command {
  return new Command('hidden')
    .description('narrow the hidden size: every weight sliced to the hidden coordinates the model uses most on texts (or evenly spaced ones)')
    .requiredOption('--model <dir>', 'run or model directory')
    .requiredOption('--out <dir>', 'model directory to write: new, empty, or an earlier output of prune hidden (replaced atomically)')
    .requiredOption('--keep <n>', 'the new hidden size: a whole number of attention heads, at least every layer\'s kept heads', positiveInt('--keep'))
    .addOption(new Option('--method <kind>', 'rank coordinates by their activations on --data, or keep them evenly spaced').choices(HIDDEN_METHODS).default('activation'))
    .addOption(new Option('--compensation <kind>', 'regression: the maps reading the hidden states take over what the kept coordinates predict of the removed ones (fitted on --data); none: the removed ones dropped').choices(HIDDEN_COMPENSATIONS).default('regression'))
    .option('--data <file>', 'texts to measure activations on: JSONL with a text field (training, dev or transfer files) or plain text, one a line')
    .option('--samples <n>', 'texts measured, a seeded sample of --data', positiveInt('--samples'), 2000)
    .option('--batch-size <n>', 'texts per batch', positiveInt('--batch-size'), 32)
    .option('--threads <n>', 'ONNX Runtime threads', positiveInt('--threads'), 2)
    .option('--seed <n>', 'seed of the sample', nonNegativeInt('--seed'), 42)
    .option('--json', 'print one JSON object', false)
    .action(async (flags: HiddenFlags) => {
      const r = await pruneHidden(flags.model, flags.out, {
        keep: flags.keep, method: flags.method, compensation: flags.compensation, samples: flags.samples, batchSize: flags.batchSize, threads: flags.threads, seed: flags.seed,
        ...(flags.data ? { data: flags.data } : {}),
      });
      if (flags.json) {
        console.log(JSON.stringify(r, null, 2));
        return;
      }
      const share = (100 * r.parametersAfter) / r.parametersBefore;
      const chosen = r.scoreKept === null ? 'evenly spaced' : `by activation on ${r.texts} texts, ${(100 * r.scoreKept).toFixed(1)}% of the summed scores kept`;
      const measured = r.compensation === 'regression' ? `${chosen}; compensated by regression on ${r.texts} texts` : chosen;
      console.log(`wrote ${r.out}: hidden ${r.hiddenAfter} of ${r.hiddenBefore} (${measured}); ${r.parametersAfter.toLocaleString('en')} parameters (${share.toFixed(1)}% of ${r.parametersBefore.toLocaleString('en')})`);
    });
}

export function pruneCommand(): Command {
  return new Command('prune')
    .description('structural pruning: remove encoder layers, attention heads and FFN neurons, or hidden coordinates')
    .addCommand(layersCommand())
    .addCommand(headsFfnCommand())
    .addCommand(hiddenCommand());
}
