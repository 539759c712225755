// `xlmt init-student`: a distillation student made from a teacher, for `xlmt train --init` (src/compress/distill/student*.ts).
import { Command, Option } from 'commander';
import { PRESET_NAMES, type PresetName } from '../checkpoint/index.ts';
import { type InitStudentReport, initStudent } from '../compress/distill/student-init.ts';
import { STUDENT_WEIGHTS, type StudentWeights } from '../compress/distill/student-shape.ts';
import { XlmtError } from '../errors/index.ts';
import { nonNegativeInt, positiveInt } from './options.ts';
import { indexList } from './prune.ts';

interface InitStudentFlags {
  teacher: string;
  out: string;
  preset?: PresetName;
  layers?: number;
  hidden?: number;
  heads?: number;
  ffn?: number;
  layerMap?: number[];
  weights: StudentWeights;
  seed: number;
  json: boolean;
}

/** What was made and how, as text, ending with the command that trains it. */
export function initStudentText(r: InitStudentReport): string {
  const { record: s } = r;
  const uniform = (xs: readonly number[]): string => (xs.every((x) => x === xs[0]) ? String(xs[0]) : xs.join('/'));
  const share = ((100 * r.parametersStudent) / r.parametersTeacher).toFixed(1);
  const list = (xs: readonly string[]): string => (xs.length === 0 ? 'nothing' : xs.join(', '));
  const lines = [
    `wrote ${r.out}: ${s.shape.layers} layer${s.shape.layers === 1 ? '' : 's'}, hidden ${s.shape.hidden}, heads ${uniform(s.shape.heads)}, FFN ${uniform(s.shape.ffn)}; ` +
      `${r.parametersStudent.toLocaleString('en')} parameters (${share}% of the teacher's ${r.parametersTeacher.toLocaleString('en')})`,
  ];
  if (s.layerMap) lines.push(`layers copied from teacher layers ${s.layerMap.join(', ')}${s.selection ? `; heads and FFN neurons kept by ${s.selection}` : ''}`);
  lines.push(`copied: ${list(s.copied)}`);
  if (s.svd) {
    const kept = Object.entries(s.svd.energyKept).map(([name, x]) => `${name.split('.')[1]} ${(100 * x).toFixed(1)}%`).join(', ');
    lines.push(`projected by truncated SVD to rank ${s.svd.rank} (energy kept: ${kept}; word embeddings' relative error ${s.svd.wordRelativeError.toFixed(3)}): ${list(s.projected)}`);
  }
  lines.push(`initialized (seed ${s.seed}): ${list(s.initialized)}`);
  lines.push(`train it with: xlmt train --init ${r.out} --pooling ${r.pooling} --head-style ${r.headStyle} --train … --out …`);
  return lines.join('\n');
}

export function initStudentCommand(): Command {
  return new Command('init-student')
    .description('a student for distillation made from a teacher: its layers copied (same hidden size), its embeddings compressed by truncated SVD (smaller hidden size), or every weight sliced from the teacher\'s (--weights select), with its tokenizer, tasks and heads')
    .requiredOption('--teacher <dir>', 'run or model directory of the teacher')
    .requiredOption('--out <dir>', 'model directory to write: new, empty, or an earlier output of init-student (replaced atomically)')
    .addOption(new Option('--preset <name>', 'the student\'s shape from a preset (sizes given as flags override it)').choices(PRESET_NAMES))
    .option('--layers <n>', 'encoder layers (default: the preset\'s, the --layer-map\'s length, else the teacher\'s)', positiveInt('--layers'))
    .option('--hidden <n>', 'hidden size (default: the teacher\'s, which copies its layers)', positiveInt('--hidden'))
    .option('--heads <n>', 'attention heads per layer (default: the teacher\'s; for a smaller hidden size, the teacher\'s head size kept)', positiveInt('--heads'))
    .option('--ffn <n>', 'FFN neurons per layer (default: the teacher\'s; for a smaller hidden size, the teacher\'s ratio to hidden kept)', positiveInt('--ffn'))
    .option('--layer-map <list>', 'the teacher layer each student layer copies, ascending, e.g. 0,2,4 (default: evenly spread)', indexList('--layer-map'))
    .addOption(new Option('--weights <kind>', 'teacher: copy the teacher\'s layers, or for a smaller hidden size project its embeddings (SVD) and initialize the layers; select: every weight a slice of the teacher\'s, hidden coordinates evenly spaced; random: every weight initialized afresh').choices(STUDENT_WEIGHTS).default('teacher'))
    .option('--seed <n>', 'seed of the initialized weights', nonNegativeInt('--seed'), 42)
    .option('--json', 'print one JSON object', false)
    .action(async (flags: InitStudentFlags) => {
      const spec = {
        ...(flags.preset ? { preset: flags.preset } : {}),
        ...(flags.layers !== undefined ? { layers: flags.layers } : {}),
        ...(flags.hidden !== undefined ? { hidden: flags.hidden } : {}),
        ...(flags.heads !== undefined ? { heads: flags.heads } : {}),
        ...(flags.ffn !== undefined ? { ffn: flags.ffn } : {}),
      };
      if (flags.weights !== 'random' && Object.keys(spec).length === 0 && flags.layerMap === undefined) {
        throw new XlmtError({ code: 'MISSING_OPTION', where: { field: '--layers' }, message: 'no student shape given: the student would be the teacher itself', hint: 'give --preset NAME, or some of --layers, --hidden, --heads, --ffn, --layer-map' });
      }
      const report = await initStudent(flags.teacher, flags.out, spec, {
        weights: flags.weights, seed: flags.seed, ...(flags.layerMap ? { layerMap: flags.layerMap } : {}),
      });
      console.log(flags.json ? JSON.stringify(report, null, 2) : initStudentText(report));
    });
}
