// `xlmt experiment`: the paper's comparisons (multi-task vs single-task, cross-lingual vs monolingual) from one
// training configuration, over several seeds, resumable; prints report.md at the end.
import { Command, InvalidArgumentError, Option } from 'commander';
import { renderText, XlmtError } from '../errors/index.ts';
import { COMPARISONS, DEFAULT_MIN_ROWS, parseComparisons, parseList, parseSeeds, runExperiment, type Comparison } from '../experiment/index.ts';
import { positiveInt } from './options.ts';
import { addTrainOptions, resolveConfig, type TrainFlags } from './train-options.ts';

/** --tasks selects tasks here (the schema comes from the configuration); --out is the experiment's directory. */
interface ExperimentFlags extends Omit<TrainFlags, 'tasks' | 'out'> {
  out: string;
  compare: Comparison[];
  seeds: number[];
  tasks?: string[];
  languages?: string[];
  minRows: number;
  quiet: boolean;
}

/**
 * Turns a list parser's BAD_OPTION into commander's "invalid argument", which names the flag and the value itself
 * (and which the command line reports as BAD_OPTION with that flag as `where.field`).
 */
const list = <T>(parse: (text: string) => T) => (text: string): T => {
  try {
    return parse(text);
  } catch (e) {
    if (e instanceof XlmtError && e.code === 'BAD_OPTION') throw new InvalidArgumentError(renderText({ message: `${e.problem.charAt(0).toUpperCase()}${e.problem.slice(1)}`, expected: e.expected, received: e.received, hint: e.hint }));
    throw e;
  }
};

export function experimentCommand(): Command {
  const command = new Command('experiment')
    .description('compare multi-task with single-task and cross-lingual with monolingual models over seeds; resumable')
    .requiredOption('--out <dir>', 'experiment directory: data/, runs/, results.json, report.md')
    .addOption(new Option('--compare <list>', `comparisons to run: ${COMPARISONS.join(', ')}`).argParser(list(parseComparisons)).default([...COMPARISONS], COMPARISONS.join(',')))
    .addOption(new Option('--seeds <list>', 'seeds, one run of every variant each').argParser(list(parseSeeds)).default([1, 2, 3], '1,2,3'))
    .option('--tasks <list>', 'tasks to compare (default: every task of the schema)', list((t) => parseList('--tasks', t)))
    .option('--languages <list>', 'languages to train and compare on (default: every language of the training data)', list((t) => parseList('--languages', t)))
    .option('--min-rows <n>', 'fewest training rows for a monolingual model', positiveInt('--min-rows'), DEFAULT_MIN_ROWS);
  return addTrainOptions(command, ['train', 'dev', 'tokenizer', 'init', 'pooling', 'headStyle', 'maxLength', 'batchSize', 'epochs', 'lr', 'patience', 'threads', 'preset', 'layers', 'hidden', 'heads', 'ffn'])
    .option('--quiet', 'print only the report', false)
    .action(async (flags: ExperimentFlags) => {
      const { tasks: _tasks, out: _out, ...trainFlags } = flags;
      const base = resolveConfig(trainFlags);
      const log = (line: string): void => {
        if (!flags.quiet) process.stderr.write(`${line}\n`);
      };
      const outcome = await runExperiment(base, {
        out: flags.out,
        compare: flags.compare,
        seeds: flags.seeds,
        minRows: flags.minRows,
        ...(flags.tasks === undefined ? {} : { tasks: flags.tasks }),
        ...(flags.languages === undefined ? {} : { languages: flags.languages }),
        ...(flags.threads === undefined ? {} : { threads: flags.threads }),
      }, { log });
      log(`results in ${outcome.resultsFile}, report in ${outcome.reportFile}`);
      process.stdout.write(outcome.report);
    });
}
