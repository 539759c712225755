// `xlmt compress`: a recipe (a file or a preset) of compression steps from a teacher to a served model, resumable,
// with a report line per step (src/compress/pipeline/).
import { Command } from 'commander';
import { loadRecipe, PRESET_RECIPES } from '../compress/pipeline/recipe.ts';
import { type ModelLine, runCompression } from '../compress/pipeline/run.ts';
import { SPEED_DEFAULTS } from '../compress/pipeline/measure.ts';
import { type Budget, checkBudget, describeBudget, parsePercent } from '../compress/search/budget.ts';
import { runSearch } from '../compress/search/run.ts';
import { loadSpace } from '../compress/search/space.ts';
import { XlmtError } from '../errors/index.ts';
import { collect, nonNegativeInt, positiveInt } from './options.ts';
import { progressEvents } from './train.ts';

interface CompressFlags {
  teacher: string; teacherModel?: string[]; train: string; dev: string; tasks?: string; transfer?: string[]; recipe?: string; preset?: string; out: string;
  threads: number; speedIterations: number; quiet: boolean; keepCheckpoints: boolean;
  search: boolean; space?: string; maxDegradation?: string; perTask?: string; perLanguage?: string; exhaustive: boolean;
}

/** The budget the flags give; null without --max-degradation (--per-task and --per-language need it). */
function budgetOf(flags: CompressFlags): Budget | null {
  if (flags.maxDegradation === undefined) {
    const orphan = flags.perTask !== undefined ? '--per-task' : flags.perLanguage !== undefined ? '--per-language' : null;
    if (orphan) throw new XlmtError({ code: 'MISSING_OPTION', where: { field: '--max-degradation' }, message: `${orphan} refines a budget that --max-degradation sets`, hint: 'add --max-degradation 2.6% (the mean\'s limit)' });
    return null;
  }
  return {
    mean: parsePercent(flags.maxDegradation, '--max-degradation'),
    ...(flags.perTask !== undefined ? { perTask: parsePercent(flags.perTask, '--per-task') } : {}),
    ...(flags.perLanguage !== undefined ? { perLanguage: parsePercent(flags.perLanguage, '--per-language') } : {}),
  };
}

/** A model's report line; with a budget and the teacher, whether the model is within it. */
function line(l: ModelLine, budget: Budget | null, teacher: ModelLine | null): string {
  const tasks = l.tasks.map((t) => `${t.task} ${(100 * t.macroF1).toFixed(1)}`).join(', ');
  const speed = l.textsPerSec === null ? '' : `, ${l.textsPerSec.toFixed(1)} texts/s${l.speedup ? ` (${l.speedup.toFixed(2)}× the teacher)` : ''}`;
  const check = budget && teacher ? checkBudget(teacher, l, budget) : null;
  const verdict = check === null ? '' : check.within ? '; within the budget' : `; over the budget: ${check.over.join(', ')}`;
  return `${l.name}: ${(l.bytes / 1e6).toFixed(1)} MB${speed}; dev mean macro-F1 ${(100 * l.meanMacroF1).toFixed(1)} (${tasks}), ${l.degradation.toFixed(2)}% below the teacher${verdict}`;
}

export function compressCommand(): Command {
  return new Command('compress')
    .description('compress a teacher to a served model by a recipe of steps (prune, trim the vocabulary, distil, train with QAT, export int8), each reported on dev and timed; resumes after a kill')
    .requiredOption('--teacher <dir>', 'run or model directory of the teacher')
    .option('--teacher-model <dir>', 'another online teacher beside --teacher in every step that trains with it (DIR, or TASK[,TASK…]=DIR; a task\'s teachers average their logits); repeat for several', collect)
    .requiredOption('--train <file>', 'labeled training data')
    .requiredOption('--dev <file>', 'labeled dev data: every step is scored on it')
    .option('--tasks <file>', 'task schema (tasks.json)')
    .option('--transfer <file>', 'unlabeled texts for distillation steps; repeat for several', collect)
    .option('--recipe <file>', 'the steps, JSON or YAML (docs/compress.md)')
    .option('--search', 'instead of a recipe: the fastest model within the budget, from a space of candidates', false)
    .option('--space <file>', 'the search space, JSON or YAML (docs/compress.md); default: layers 1, 1/2, 1/4 × heads and FFN 1, 1/2, a half-size student, int8 or not, vocabulary trimmed or not')
    .option('--max-degradation <pct>', 'budget: relative mean macro-F1 degradation against the teacher on dev, e.g. 2.6%')
    .option('--per-task <pct>', 'budget: the same for every task')
    .option('--per-language <pct>', 'budget: the same for every language (its tasks\' mean)')
    .option('--exhaustive', 'search: score every candidate (the whole Pareto front), not only until one is within the budget', false)
    .option('--preset <name>', `a recipe by name: ${PRESET_RECIPES.join(', ')}`)
    .requiredOption('--out <dir>', 'output directory: a directory per step, reports/, report.md')
    .option('--threads <n>', 'ONNX Runtime threads', positiveInt('--threads'), 2)
    .option('--speed-iterations <n>', 'timed batches per model at the serving shape (32 × 128); 0: no speed measured', nonNegativeInt('--speed-iterations'), SPEED_DEFAULTS.iterations)
    .option('--keep-checkpoints', 'keep each training\'s whole checkpoint (weights and optimizer state, about 3× the model) after its step is done; by default only its progress is kept then', false)
    .option('--quiet', 'print only the report lines', false)
    .action(async (flags: CompressFlags) => {
      const budget = budgetOf(flags);
      const progress = progressEvents(flags.quiet);
      const common = {
        teacher: flags.teacher, train: flags.train, dev: flags.dev, ...(flags.tasks ? { tasks: flags.tasks } : {}), ...(flags.transfer ? { transfer: flags.transfer } : {}),
        out: flags.out, threads: flags.threads, keepCheckpoints: flags.keepCheckpoints, ...(flags.teacherModel ? { teacherModels: flags.teacherModel } : {}),
      };
      if (flags.search) {
        const given = flags.recipe !== undefined ? '--recipe' : flags.preset !== undefined ? '--preset' : null;
        if (given) throw new XlmtError({ code: 'BAD_OPTION', where: { field: given }, message: `--search makes its own recipes; ${given} is for one recipe run`, hint: 'leave out --search to run the recipe, or the recipe to search' });
        if (budget === null) throw new XlmtError({ code: 'MISSING_OPTION', where: { field: '--max-degradation' }, message: '--search looks for the fastest model within a budget: give it', hint: 'e.g. --max-degradation 2.6% [--per-task 4%] [--per-language 6%]' });
        if (flags.speedIterations === 0) throw new XlmtError({ code: 'BAD_OPTION', where: { field: '--speed-iterations' }, message: '--search orders its candidates by their measured speed', expected: 'at least 1', received: '0' });
        const result = await runSearch({
          ...common, space: loadSpace(flags.space), budget, exhaustive: flags.exhaustive,
          speed: { ...SPEED_DEFAULTS, iterations: flags.speedIterations, threads: flags.threads },
        }, { ...progress, onLine: (l) => console.log(line(l, budget, null)) });
        console.log(result.answer === null
          ? `no candidate tried is within the budget (${describeBudget(budget)}); ${flags.out}/search.md lists what each lost`
          : `the answer: ${result.answer}, ${result.lines[result.answer]?.model ?? ''}${result.first !== result.answer ? ` (the first within the budget: ${result.first})` : ''}; ${flags.out}/search.md and ${flags.out}/pareto.svg`);
        return;
      }
      if (flags.space !== undefined || flags.exhaustive) {
        throw new XlmtError({ code: 'BAD_OPTION', where: { field: flags.space !== undefined ? '--space' : '--exhaustive' }, message: 'is for --search', hint: 'add --search, or leave it out' });
      }
      if ((flags.recipe === undefined) === (flags.preset === undefined)) {
        throw new XlmtError({ code: flags.recipe === undefined ? 'MISSING_OPTION' : 'BAD_OPTION', where: { field: '--recipe' }, message: 'give --recipe FILE or --preset NAME, one of them (or --search)', hint: `presets: ${PRESET_RECIPES.join(', ')}` });
      }
      const recipe = loadRecipe(flags.recipe !== undefined ? { file: flags.recipe } : { preset: flags.preset as string });
      let teacher: ModelLine | null = null;
      const result = await runCompression({
        ...common, recipe,
        speed: flags.speedIterations === 0 ? null : { ...SPEED_DEFAULTS, iterations: flags.speedIterations, threads: flags.threads },
      }, {
        ...progress,
        onLine: (l) => {
          teacher ??= l;
          console.log(line(l, budget, teacher === l ? null : teacher));
        },
      });
      console.log(`${flags.out}: ${result.steps.length} steps; the report is ${flags.out}/report.md`);
    });
}
