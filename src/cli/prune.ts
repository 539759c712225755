// `xlmt prune layers` and `xlmt prune heads-ffn`: structural pruning passes, each a model directory in and a
// smaller one out (src/compress/prune/).
import { Command, InvalidArgumentError, Option } from 'commander';
import { LAYER_STRATEGIES, type LayerStrategy, pruneLayers } from '../compress/prune/layers.ts';
import { XlmtError } from '../errors/index.ts';
import { positiveInt } from './options.ts';

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
    if (parts.some((s) => !/^\d+$/.test(s))) throw new InvalidArgumentError(`${flag} expects comma-separated layer indices such as 0,2,4, got "${value}"`);
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

export function pruneCommand(): Command {
  return new Command('prune')
    .description('structural pruning: remove encoder layers, or attention heads and FFN neurons')
    .addCommand(layersCommand());
}
