// `xlmt import`: a transformers *ForSequenceClassification checkpoint → an xlmt model directory.
import { Command, Option } from 'commander';
import { formatKeyReport } from '../checkpoint/index.ts';
import { importClassifier } from '../train/import-classifier.ts';
import { number, positiveInt } from './options.ts';

interface ImportFlags {
  from: string;
  task: string;
  out: string;
  type?: 'multiclass' | 'multilabel';
  tokenizer?: string;
  maxLength?: number;
  threshold: number;
}

export function importCommand(): Command {
  return new Command('import')
    .description('turn a Hugging Face BERT, RoBERTa or XLM-R sequence classifier into an xlmt model directory (for eval, export, serve, predict, train --init)')
    .requiredOption('--from <dir>', 'checkpoint directory: config.json, model.safetensors, tokenizer.json')
    .requiredOption('--task <name>', 'the task its head becomes (as named in your data files)')
    .requiredOption('--out <dir>', 'model directory to write: new, empty, or an earlier import (replaced atomically)')
    .addOption(new Option('--type <type>', 'task type (default: from config.json\'s problem_type)').choices(['multiclass', 'multilabel']))
    .option('--tokenizer <file>', 'tokenizer.json (default: the one in --from)')
    .option('--max-length <n>', 'tokens per text (default: the position table\'s limit, at most 512)', positiveInt('--max-length'))
    .option('--threshold <x>', 'multilabel decision threshold for every label', number('--threshold'), 0.5)
    .action(async (flags: ImportFlags) => {
      const imported = await importClassifier(flags.from, flags.out, {
        task: flags.task, threshold: flags.threshold,
        ...(flags.type ? { type: flags.type } : {}),
        ...(flags.tokenizer ? { tokenizer: flags.tokenizer } : {}),
        ...(flags.maxLength ? { maxLength: flags.maxLength } : {}),
      });
      for (const w of imported.warnings) console.error(`warning: ${w}`);
      const task = imported.model.schema.tasks[0];
      console.log(formatKeyReport(imported.report));
      console.log(`wrote ${flags.out}: task ${task?.name} (${task?.type}: ${task?.labels.join(', ')}), ${imported.headStyle} head, CLS pooling, max length ${imported.model.meta.maxLength}`);
    });
}
