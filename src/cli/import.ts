// `xlmt import`: a transformers *ForSequenceClassification checkpoint → an xlmt model directory; an ONNX encoder
// (--from model.onnx) → a Hugging Face checkpoint directory for train --init.
import { Command, Option } from 'commander';
import { formatKeyReport } from '../checkpoint/index.ts';
import { importOnnxEncoder } from '../checkpoint/onnx-import/index.ts';
import { XlmtError } from '../errors/index.ts';
import { importClassifier } from '../train/import-classifier.ts';
import { number, positiveInt } from './options.ts';

interface ImportFlags {
  from: string;
  task?: string;
  out: string;
  type?: 'multiclass' | 'multilabel';
  tokenizer?: string;
  maxLength?: number;
  threshold: number;
}

export function importCommand(): Command {
  return new Command('import')
    .description('turn a Hugging Face BERT, RoBERTa or XLM-R sequence classifier into an xlmt model directory (for eval, export, serve, predict, train --init), or a BERT/XLM-R encoder exported to ONNX into a Hugging Face checkpoint directory (for train --init)')
    .requiredOption('--from <path>', 'checkpoint directory (config.json, model.safetensors, tokenizer.json), or an encoder\'s .onnx file')
    .option('--task <name>', 'the task its head becomes (as named in your data files); required for a checkpoint directory')
    .requiredOption('--out <dir>', 'model directory to write: new, empty, or an earlier import (replaced atomically)')
    .addOption(new Option('--type <type>', 'task type (default: from config.json\'s problem_type)').choices(['multiclass', 'multilabel']))
    .option('--tokenizer <file>', 'tokenizer.json (default: the one in --from; required with an .onnx file)')
    .option('--max-length <n>', 'tokens per text (default: the position table\'s limit, at most 512)', positiveInt('--max-length'))
    .option('--threshold <x>', 'multilabel decision threshold for every label', number('--threshold'), 0.5)
    .action(async (flags: ImportFlags) => {
      if (flags.from.toLowerCase().endsWith('.onnx')) {
        await importOnnx(flags);
        return;
      }
      if (!flags.task) throw new XlmtError({ code: 'BAD_OPTION', where: { field: '--task' }, message: 'importing a classifier checkpoint needs the task its head becomes', hint: 'add --task NAME' });
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

async function importOnnx(flags: ImportFlags): Promise<void> {
  if (!flags.tokenizer) {
    throw new XlmtError({ code: 'BAD_OPTION', where: { field: '--tokenizer' }, message: 'importing an ONNX encoder needs its tokenizer', hint: 'add --tokenizer tokenizer.json (the one that came with the .onnx file)' });
  }
  const report = await importOnnxEncoder(flags.from, flags.out, { tokenizer: flags.tokenizer });
  for (const w of report.warnings) console.error(`warning: ${w}`);
  const e = report.config.encoder;
  console.log(`${report.config.modelType}: ${e.numHiddenLayers} layers × ${e.hiddenSize} hidden, ${e.numAttentionHeads} heads, FFN ${e.intermediateSize}, vocab ${e.vocabSize}, ${e.maxPositionEmbeddings} positions`);
  console.log(`check against the ONNX file (largest |Δ| over tokens, tolerance ${report.tolerance}): ${report.check.map((c) => `${c.stage} ${c.maxAbsDiff.toExponential(1)}`).join(', ')}`);
  console.log(`wrote ${flags.out}: config.json, model.safetensors, tokenizer.json (use it with xlmt train --init ${flags.out})`);
}
