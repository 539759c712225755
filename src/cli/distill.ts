// `xlmt distill`: XtremeDistil's stages from a teacher to a student, one `xlmt train` run each, from a config file
// and/or flags (src/compress/distill/stages/).
import { Command } from 'commander';
import { LOGIT_FIELDS, parseDistillConfig, REPRESENTATION_FIELDS, STAGE_NAMES } from '../compress/distill/stages/config.ts';
import { type DistillEvents, runDistillation } from '../compress/distill/stages/run.ts';
import type { StageResult } from '../compress/distill/stages/report.ts';
import { formatScore } from '../eval/index.ts';
import { readConfigFile } from '../train/config.ts';
import { collect, list, number, positiveInt } from './options.ts';
import { progressEvents } from './train.ts';

interface DistillFlags {
  config?: string;
  teacherModel?: string[]; student?: string; train?: string; dev?: string; tasks?: string; transfer?: string[]; out?: string;
  stages?: string[]; unfreezeGroup?: number; keepCheckpoints?: boolean; quiet?: boolean;
  [field: string]: unknown;
}

/** Flags that go to `common` (every stage), to the logit stages, and to the representation stage. */
const COMMON_FLAGS = ['epochs', 'lr', 'batchSize', 'maxLength', 'patience', 'checkpointEvery', 'seed', 'threads'] as const;
const TOP_FLAGS = ['teacherModel', 'student', 'train', 'dev', 'tasks', 'transfer', 'out', 'stages', 'unfreezeGroup', 'keepCheckpoints'] as const;

/** The config file's object with the flags laid over it. */
function mergeFlags(flags: DistillFlags): Record<string, unknown> {
  const base = flags.config ? readConfigFile(flags.config) : {};
  const merged: Record<string, unknown> = { ...base };
  for (const key of TOP_FLAGS) if (flags[key] !== undefined) merged[key] = flags[key];
  const section = (name: string, fields: readonly string[]): void => {
    const given = Object.fromEntries(fields.filter((f) => flags[f] !== undefined).map((f) => [f, flags[f]]));
    if (Object.keys(given).length > 0) merged[name] = { ...(base[name] as Record<string, unknown> | undefined), ...given };
  };
  section('common', COMMON_FLAGS);
  for (const stage of ['logits', 'unfreeze', 'finetune']) section(stage, LOGIT_FIELDS);
  section('representation', REPRESENTATION_FIELDS);
  return merged;
}

function stageLine(r: StageResult): string {
  const tasks = r.tasks.map((t) => `${t.task} ${formatScore(t.macroF1)}`).join(', ');
  const outcome = r.kept ? '' : `; below the model it started from: rolled back to ${r.rolledBackTo}`;
  return `stage ${r.name}: dev mean macro-F1 ${formatScore(r.devMeanMacroF1)} (${tasks}), ${r.steps} steps, ${(r.seconds / 60).toFixed(1)} min${outcome}`;
}

export function distillCommand(): Command {
  return new Command('distill')
    .description('distil teachers into a student through XtremeDistil\'s stages (representation, logits, gradual unfreezing, fine-tuning), each an xlmt train run with a dev report; resumes after a kill')
    .option('--config <file>', 'JSON distillation configuration (flags override it); fields in docs/distillation.md')
    .option('--teacher-model <dir>', 'an online teacher (run, model, export or baseline directory; TASK[,TASK…]=DIR for some tasks); repeat for several', collect)
    .option('--student <preset|dir>', 'a preset (the student is made from the teacher as xlmt init-student does) or a model or run directory')
    .option('--train <file>', 'labeled training data: its texts are transfer texts before fine-tuning, its labels train the last stage')
    .option('--dev <file>', 'labeled dev data: early stopping, rollback and the reports')
    .option('--tasks <file>', 'task schema (tasks.json)')
    .option('--transfer <file>', 'unlabeled texts (JSONL with "text", or one per line) the teachers label before fine-tuning; repeat for several', collect)
    .option('--out <dir>', 'output directory: a run per stage, reports/, report.md, best/')
    .option('--stages <list>', `stages to run, in order (default: ${STAGE_NAMES.join(',')})`, list('--stages'))
    .option('--unfreeze-group <n>', 'layers unfrozen per sub-stage of gradual unfreezing (default: 2)', positiveInt('--unfreeze-group'))
    .option('--epochs <n>', 'epochs of every stage (default: 3)', positiveInt('--epochs'))
    .option('--lr <x>', 'peak learning rate of every stage (default: 5e-5)', number('--lr'))
    .option('--batch-size <n>', 'examples per batch (default: 32)', positiveInt('--batch-size'))
    .option('--max-length <n>', 'tokens per text (default: the student\'s)', positiveInt('--max-length'))
    .option('--patience <n>', 'evaluations without a better dev score before a stage stops (default: 2; the representation stage has no dev)', number('--patience'))
    .option('--checkpoint-every <n>', 'optimizer steps between resumable checkpoints (default: 200)', positiveInt('--checkpoint-every'))
    .option('--seed <n>', 'random seed (default: 42)', number('--seed'))
    .option('--threads <n>', 'ONNX Runtime threads (default: 2)', positiveInt('--threads'))
    .option('--kd-temperature <F>', 'Eq. 2\'s temperature in the logit stages (default: 4)', number('--kd-temperature'))
    .option('--kd-alpha <α>', 'Eq. 2\'s weight of the teachers\' term in the logit stages (default: 1)', number('--kd-alpha'))
    .option('--hidden-weight <w>', 'weight of the hidden-state MSE in the representation stage (default: 1)', number('--hidden-weight'))
    .option('--match <pairs>', 'student:teacher layers of the representation stage (default: uniform)')
    .option('--keep-checkpoints', 'keep each finished stage\'s whole checkpoint (weights and optimizer state, about 3× the model); by default only its progress is kept once the stage is done')
    .option('--quiet', 'print only each stage\'s result', false)
    .action(async (flags: DistillFlags) => {
      const origin = flags.config ?? 'the command line';
      const config = parseDistillConfig(mergeFlags(flags), origin);
      const progress = progressEvents(flags.quiet ?? false);
      const events: DistillEvents = {
        ...progress,
        onStage: (stage, index, of, from) => progress.log(`== stage ${index + 1}/${of} ${stage.name}: trains ${stage.trains}, from ${from}`),
        onStageEnd: (r) => console.log(stageLine(r)),
      };
      const result = await runDistillation(config, origin, events);
      console.log(`${result.out}: ${result.stages.length} stages; the model is ${result.model}; the report is ${result.out}/report.md`);
    });
}
