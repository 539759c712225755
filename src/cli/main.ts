// The `xlmt` command line: one subcommand per file, assembled here.
import { Command } from 'commander';
import { baselineCommand } from './baseline.ts';
import { benchCommand } from './bench.ts';
import { dataCommand } from './data.ts';
import { tokenizerCommand } from './tokenizer.ts';
import { trainCommand } from './train.ts';
import { evalCommand } from './eval.ts';
import { exportCommand } from './export.ts';
import { importCommand } from './import.ts';
import { experimentCommand } from './experiment.ts';
import { predictCommand } from './predict.ts';
import { pretrainCommand } from './pretrain.ts';
import { quickstartCommand } from './quickstart.ts';
import { serveCommand } from './serve.ts';

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
  .addCommand(exportCommand())
  .addCommand(serveCommand())
  .addCommand(predictCommand())
  .addCommand(benchCommand());

try {
  await program.parseAsync(process.argv);
} catch (e) {
  console.error(`xlmt: ${(e as Error).message}`);
  process.exitCode = 1;
}
