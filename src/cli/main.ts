// The `xlmt` command line: one subcommand per file, assembled here.
import { Command, CommanderError } from 'commander';
import { baselineCommand } from './baseline.ts';
import { benchCommand } from './bench.ts';
import { dataCommand } from './data.ts';
import { tokenizerCommand } from './tokenizer.ts';
import { trainCommand } from './train.ts';
import { evalCommand } from './eval.ts';
import { exportCommand } from './export.ts';
import { pruneCommand } from './prune.ts';
import { trimVocabCommand } from './trim-vocab.ts';
import { initStudentCommand } from './init-student.ts';
import { distillCommand } from './distill.ts';
import { costCommand } from './cost.ts';
import { compressCommand } from './compress.ts';
import { importCommand } from './import.ts';
import { experimentCommand } from './experiment.ts';
import { predictCommand } from './predict.ts';
import { pretrainCommand } from './pretrain.ts';
import { quickstartCommand } from './quickstart.ts';
import { serveCommand } from './serve.ts';
import { reportError } from './report-error.ts';

const program = new Command('xlmt')
  .description('Train, compress and serve cross-lingual multi-task text classifiers on ONNX Runtime')
  .version('0.1.0')
  .showHelpAfterError()
  .addCommand(quickstartCommand())
  .addCommand(dataCommand())
  .addCommand(tokenizerCommand())
  .addCommand(pretrainCommand())
  .addCommand(trainCommand())
  .addCommand(importCommand())
  .addCommand(evalCommand())
  .addCommand(baselineCommand())
  .addCommand(experimentCommand())
  .addCommand(pruneCommand())
  .addCommand(trimVocabCommand())
  .addCommand(initStudentCommand())
  .addCommand(distillCommand())
  .addCommand(compressCommand())
  .addCommand(exportCommand())
  .addCommand(serveCommand())
  .addCommand(predictCommand())
  .addCommand(benchCommand())
  .addCommand(costCommand());

// Commander's own errors (unknown flags, missing values) are reported like every other error: thrown, not printed.
exitOverrideDeep(program);

function exitOverrideDeep(command: Command): void {
  command.exitOverride().configureOutput({ outputError: () => {} });
  for (const sub of command.commands) exitOverrideDeep(sub);
}

try {
  await program.parseAsync(process.argv);
} catch (e) {
  // --help and --version end through the same path, with exit code 0 and nothing to report.
  if (e instanceof CommanderError && (e.exitCode === 0 || e.code === 'commander.helpDisplayed' || e.code === 'commander.version')) {
    process.exitCode = e.exitCode;
  } else {
    process.exitCode = reportError(e, process.argv.includes('--json'));
  }
}
