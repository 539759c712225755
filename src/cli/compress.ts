// `xlmt compress`: a recipe (a file or a preset) of compression steps from a teacher to a served model, resumable,
// with a report line per step (src/compress/pipeline/).
import { Command } from 'commander';
import { loadRecipe, PRESET_RECIPES } from '../compress/pipeline/recipe.ts';
import { type ModelLine, runCompression } from '../compress/pipeline/run.ts';
import { SPEED_DEFAULTS } from '../compress/pipeline/measure.ts';
import { XlmtError } from '../errors/index.ts';
import { collect, nonNegativeInt, positiveInt } from './options.ts';
import { progressEvents } from './train.ts';

interface CompressFlags {
  teacher: string; train: string; dev: string; tasks?: string; transfer?: string[]; recipe?: string; preset?: string; out: string;
  threads: number; speedIterations: number; quiet: boolean;
}

function line(l: ModelLine): string {
  const tasks = l.tasks.map((t) => `${t.task} ${(100 * t.macroF1).toFixed(1)}`).join(', ');
  const speed = l.textsPerSec === null ? '' : `, ${l.textsPerSec.toFixed(1)} texts/s${l.speedup ? ` (${l.speedup.toFixed(2)}× the teacher)` : ''}`;
  return `${l.name}: ${(l.bytes / 1e6).toFixed(1)} MB${speed}; dev mean macro-F1 ${(100 * l.meanMacroF1).toFixed(1)} (${tasks}), ${l.degradation.toFixed(2)}% below the teacher`;
}

export function compressCommand(): Command {
  return new Command('compress')
    .description('compress a teacher to a served model by a recipe of steps (prune, trim the vocabulary, distil, train with QAT, export int8), each reported on dev and timed; resumes after a kill')
    .requiredOption('--teacher <dir>', 'run or model directory of the teacher')
    .requiredOption('--train <file>', 'labeled training data')
    .requiredOption('--dev <file>', 'labeled dev data: every step is scored on it')
    .option('--tasks <file>', 'task schema (tasks.json)')
    .option('--transfer <file>', 'unlabeled texts for distillation steps; repeat for several', collect)
    .option('--recipe <file>', 'the steps, JSON or YAML (docs/compress.md)')
    .option('--preset <name>', `a recipe by name: ${PRESET_RECIPES.join(', ')}`)
    .requiredOption('--out <dir>', 'output directory: a directory per step, reports/, report.md')
    .option('--threads <n>', 'ONNX Runtime threads', positiveInt('--threads'), 2)
    .option('--speed-iterations <n>', 'timed batches per model at the serving shape (32 × 128); 0: no speed measured', nonNegativeInt('--speed-iterations'), SPEED_DEFAULTS.iterations)
    .option('--quiet', 'print only the report lines', false)
    .action(async (flags: CompressFlags) => {
      if ((flags.recipe === undefined) === (flags.preset === undefined)) {
        throw new XlmtError({ code: flags.recipe === undefined ? 'MISSING_OPTION' : 'BAD_OPTION', where: { field: '--recipe' }, message: 'give --recipe FILE or --preset NAME, one of them', hint: `presets: ${PRESET_RECIPES.join(', ')}` });
      }
      const recipe = loadRecipe(flags.recipe !== undefined ? { file: flags.recipe } : { preset: flags.preset as string });
      const progress = progressEvents(flags.quiet);
      const result = await runCompression({
        teacher: flags.teacher, train: flags.train, dev: flags.dev, ...(flags.tasks ? { tasks: flags.tasks } : {}), ...(flags.transfer ? { transfer: flags.transfer } : {}),
        recipe, out: flags.out, threads: flags.threads,
        speed: flags.speedIterations === 0 ? null : { ...SPEED_DEFAULTS, iterations: flags.speedIterations, threads: flags.threads },
      }, { ...progress, onLine: (l) => console.log(line(l)) });
      console.log(`${flags.out}: ${result.steps.length} steps; the report is ${flags.out}/report.md`);
    });
}
