// `xlmt compress`: a recipe's steps from a teacher to a served model, each step a compression pass writing
// OUT/NN-<name> from the model the step before wrote, each ending with a line of the report (size, speed and
// speedup over the teacher on this CPU, dev macro-F1 per task, relative change against the teacher) and a report per
// task and language in OUT/reports/. OUT/compress.json records the settings and every finished step: after a kill
// the same command skips the finished steps, and the step that was running resumes as its own command does (a
// training or distillation from its checkpoints; a pass that writes its output whole starts again).
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../checkpoint/atomic.ts';
import { XlmtError } from '../../errors/index.ts';
import { taskLanguageTable } from '../../eval/index.ts';
import { exportModel } from '../../export/export.ts';
import { readModelMeta } from '../../model-dir/index.ts';
import { evaluateModel, resolveModelDir } from '../../train/assess.ts';
import { parseTrainConfig } from '../../train/config.ts';
import type { DatasetEvaluation } from '../../train/evaluate.ts';
import { type RunEvents, runTraining } from '../../train/run.ts';
import { slimAfterStep } from '../../train/loop/slim.ts';
import { claimOutputDir, checkOutputDir, type InputPath, inputsOf, type OutputSpec } from '../../util/output-dir.ts';
import { runOnlineDistillation } from '../distill/online-run.ts';
import { parseTeacherFlags, TEACHER_FLAG } from '../distill/teacher-map.ts';
import { locateTeacher } from '../distill/teacher-source.ts';
import { parseDistillConfig, TEACHER_CACHE_DIR } from '../distill/stages/config.ts';
import { runDistillation } from '../distill/stages/run.ts';
import { initStudent } from '../distill/student-init.ts';
import { pruneHeadsFfn } from '../prune/heads-ffn.ts';
import { pruneHidden } from '../prune/hidden.ts';
import { narrowInRounds } from './narrow.ts';
import { pruneLayers } from '../prune/layers.ts';
import { trimVocab } from '../trim-vocab/trim.ts';
import { readHfConfig } from '../../checkpoint/index.ts';
import { languageScores, relativeDegradation } from '../search/budget.ts';
import { modelBytes, servingSpeed, type SpeedOptions } from './measure.ts';
import { type Recipe, type Step, stepName } from './recipe.ts';

export interface CompressOptions {
  readonly teacher: string;
  readonly train: string;
  readonly dev: string;
  readonly tasks?: string;
  readonly transfer?: readonly string[];
  readonly recipe: Recipe;
  readonly out: string;
  readonly threads: number;
  /** How each model's speed is measured; null: not measured. */
  readonly speed: SpeedOptions | null;
  /** Keep the finished trainings' whole checkpoints (default: slimmed once their step is recorded; train/loop/slim.ts). */
  readonly keepCheckpoints?: boolean;
  /**
   * More online teachers (`--teacher-model`: DIR, or TASK[,TASK…]=DIR) beside `teacher` in every step that trains
   * with it: a task's teachers average their logits (an emotion teacher that includes a baseline, say).
   */
  readonly teacherModels?: readonly string[];
}

/** One model's line of the report. */
export interface ModelLine {
  readonly name: string;
  readonly model: string;
  readonly bytes: number;
  readonly textsPerSec: number | null;
  /** The teacher's time over this model's, same shape of batch, measured in this run (or the run it resumed). */
  readonly speedup: number | null;
  readonly meanMacroF1: number;
  readonly tasks: readonly { readonly task: string; readonly macroF1: number }[];
  /** Each language's mean over the tasks that have it of their macro-F1 there (search/budget.ts). */
  readonly languages: readonly { readonly lang: string; readonly macroF1: number }[];
  /** (teacher − model) / teacher of the mean macro-F1, in percent; 0 for the teacher. */
  readonly degradation: number;
  readonly seconds: number;
}

interface State {
  readonly format: 'xlmt-compress';
  readonly version: 1;
  readonly settings: unknown;
  teacher: ModelLine | null;
  readonly steps: ModelLine[];
}

export interface CompressEvents extends RunEvents {
  onLine?(line: ModelLine): void;
}

const STATE_FILE = 'compress.json';

function settingsOf(o: CompressOptions): unknown {
  return JSON.parse(JSON.stringify({ teacher: o.teacher, teacherModels: moreTeachers(o), train: o.train, dev: o.dev, tasks: o.tasks, transfer: o.transfer, recipe: o.recipe, speed: o.speed })) as unknown;
}

/** The extra teachers as settings record them: none is left out (so a state written before they existed matches). */
export const moreTeachers = (o: { readonly teacherModels?: readonly string[] }): readonly string[] | undefined => (o.teacherModels?.length ? o.teacherModels : undefined);

/** Every online teacher of a training step: the pipeline's teacher, then the extra ones. */
const onlineTeachers = (o: CompressOptions): string[] => [o.teacher, ...(o.teacherModels ?? [])];

/**
 * The extra teachers checked before any step runs (a malformed value or a path that is no model would otherwise
 * surface at the first training, after the passes before it), as inputs the output may not sit inside.
 */
export function teacherModelInputs(values: readonly string[] | undefined): InputPath[] {
  return parseTeacherFlags(values ?? []).map((a) => {
    locateTeacher(a.path, `${TEACHER_FLAG} ${a.value}`);
    return { flag: `${TEACHER_FLAG} ${a.value}`, path: a.path };
  });
}

async function readState(out: string, settings: unknown): Promise<State> {
  const file = join(out, STATE_FILE);
  if (!existsSync(file)) return { format: 'xlmt-compress', version: 1, settings, teacher: null, steps: [] };
  const state = JSON.parse(await readFile(file, 'utf8')) as State;
  if (JSON.stringify(state.settings) !== JSON.stringify(settings)) {
    throw new XlmtError({ code: 'RUN_SETTINGS_CHANGED', where: { file: out }, message: 'holds an unfinished compression with another recipe, teacher or data', received: file, hint: 'resume with the same recipe and data (threads may differ), or choose another --out' });
  }
  return state;
}

const saveState = (out: string, state: State): Promise<void> => writeFileAtomic(join(out, STATE_FILE), [new TextEncoder().encode(`${JSON.stringify(state, null, 2)}\n`)]);

/** A model's line: dev scores, and speed when the options ask for it, against the teacher's line. */
export async function measure(name: string, model: string, o: CompressOptions, teacher: ModelLine | null, seconds: number): Promise<{ line: ModelLine; scores: DatasetEvaluation }> {
  const scores = await evaluateModel(model, o.dev, o.threads);
  const textsPerSec = o.speed ? await servingSpeed(model, o.speed) : null;
  const mean = scores.summary.meanMacroF1;
  const line: ModelLine = {
    name, model, bytes: modelBytes(model), textsPerSec,
    speedup: teacher?.textsPerSec && textsPerSec ? textsPerSec / teacher.textsPerSec : teacher === null && textsPerSec ? 1 : null,
    meanMacroF1: mean, tasks: scores.summary.tasks.map((t) => ({ task: t.task, macroF1: t.macroF1 })), languages: languageScores(scores),
    degradation: teacher ? relativeDegradation(teacher.meanMacroF1, mean) : 0, seconds,
  };
  return { line, scores };
}

const dataOf = (o: CompressOptions): { train: string; dev: string; tasks?: string } => ({ train: o.train, dev: o.dev, ...(o.tasks ? { tasks: o.tasks } : {}) });

/** Runs one step from `from`, writing `out`; returns the model the next step reads. */
export async function runStep(step: Step, from: string, out: string, o: CompressOptions, events: RunEvents): Promise<string> {
  switch (step.step) {
    case 'prune-layers': {
      const layers = (await readHfConfig(join(from, 'config.json'))).config.encoder.numHiddenLayers;
      const keepCount = step.keepFraction !== undefined ? Math.max(1, Math.round(layers * step.keepFraction)) : step.keepCount;
      await pruneLayers(from, out, step.keep ? { keep: step.keep } : { keepCount: keepCount as number, strategy: step.strategy });
      return out;
    }
    case 'prune-heads-ffn':
      await pruneHeadsFfn(from, out, {
        data: o.train, ...(o.tasks ? { tasks: o.tasks } : {}), ...(step.heads ? { heads: step.heads } : {}), ...(step.ffn ? { ffn: step.ffn } : {}),
        iterations: step.iterations, even: step.even, method: step.method, samples: step.samples, batchSize: 32, threads: o.threads, seed: 42, log: events.log,
      });
      return out;
    case 'prune-hidden': {
      const hidden = (await readHfConfig(join(from, 'config.json'))).config.encoder.hiddenSize;
      const keep = step.keep ?? Math.round(hidden * (step.keepFraction as number));
      if (step.rounds === 1) {
        await pruneHidden(from, out, { keep, method: step.method, data: o.train, samples: step.samples, threads: o.threads });
        return out;
      }
      return narrowInRounds(from, out, {
        keep, rounds: step.rounds, method: step.method, samples: step.samples, train: o.train, ...(o.tasks ? { tasks: o.tasks } : {}), threads: o.threads, log: events.log,
        retrain: (init, runOut, train) => trainFrom(init, runOut, { ...step.retrain, train }, true, `the recipe's step ${stepName(step)}, retrain`, o, events),
      });
    }
    case 'trim-vocab':
      await trimVocab({ model: from, corpus: [o.train], minCount: step.minCount, out, threads: o.threads });
      return out;
    case 'init-student': {
      const spec = Object.fromEntries(Object.entries(step).filter(([k, v]) => !['step', 'name', 'weights'].includes(k) && v !== undefined));
      await initStudent(from, out, spec, step.weights ? { weights: step.weights } : {});
      return out;
    }
    case 'train':
      return trainFrom(from, out, step.settings, step.teacher, `the recipe's step ${stepName(step)}`, o, events);
    case 'distill': {
      const config = parseDistillConfig({
        ...dataOf(o), teacherModel: onlineTeachers(o), student: from, out, ...(o.transfer ? { transfer: [...o.transfer] } : {}), keepCheckpoints: o.keepCheckpoints ?? false,
        ...step.settings, common: { threads: o.threads, ...(step.settings.common as Record<string, unknown> | undefined) },
      }, `the recipe's step ${stepName(step)}`);
      return (await runDistillation(config, `the recipe's step ${stepName(step)}`, events)).model;
    }
    case 'export':
      await exportModel(from, out, {
        quantization: step.int8 ? (step.perChannel ? 'int8-per-channel' : 'int8-per-tensor') : 'none', checkData: o.dev, checkSample: 500, threads: o.threads,
        ...(step.static ? { staticInt8: { calibration: step.static.calibration, ...(step.static.method ? { method: step.static.method } : {}), ...(step.static.rows ? { rows: step.static.rows } : {}) } } : {}),
      });
      return out;
  }
}

/**
 * xlmt train from the model `from` into `out` (its best model returned), with the pipeline's data and the model's
 * pooling, head style and max length unless `settings` says otherwise; with the teacher, Eq. 2. Every such training
 * without intermediate terms shares one cache of the teacher's logits under OUT, so the teacher runs once per text
 * over the whole compression (or search), not once per step and epoch.
 */
async function trainFrom(from: string, out: string, settings: Readonly<Record<string, unknown>>, teacher: boolean, origin: string, o: CompressOptions, events: RunEvents): Promise<string> {
  const meta = await readModelMeta(from);
  const intermediate = Number(settings['hiddenWeight'] ?? 0) > 0 || Number(settings['relationWeight'] ?? 0) > 0;
  const cache = teacher && !intermediate ? { teacherCache: join(o.out, TEACHER_CACHE_DIR) } : {};
  const config = parseTrainConfig({
    ...dataOf(o), init: from, out, pooling: meta.pooling, headStyle: meta.headStyle, maxLength: meta.maxLength, threads: o.threads,
    ...cache, ...settings, ...(teacher ? { teacherModel: onlineTeachers(o) } : {}),
  }, origin);
  await (teacher ? runOnlineDistillation(config, events) : runTraining(config, events));
  return join(out, 'best');
}

/** The teacher's line, measured once and kept in the state; its report in OUT/reports/`report`. */
export async function teacherLine(state: { teacher: ModelLine | null }, teacherDir: string, o: CompressOptions, report: string, save: () => Promise<void>): Promise<ModelLine> {
  if (state.teacher === null) {
    const { line, scores } = await measure('teacher', teacherDir, o, null, 0);
    state.teacher = line;
    await writeFile(join(o.out, 'reports', report), reportFile('teacher', line, scores));
    await save();
  }
  return state.teacher;
}

export function reportFile(name: string, line: ModelLine, scores: DatasetEvaluation): string {
  return [`# ${name}: dev mean macro-F1 ${(100 * line.meanMacroF1).toFixed(1)} (${line.degradation.toFixed(2)}% below the teacher)`, '', `Model: ${line.model}.`, '', taskLanguageTable(scores.reports), ''].join('\n');
}

export function summaryText(teacher: ModelLine, steps: readonly ModelLine[], o: CompressOptions): string {
  const tasks = teacher.tasks.map((t) => t.task);
  const speed = o.speed ? `texts/s at ${o.speed.batch} × ${o.speed.seq} tokens, ${o.speed.threads} threads, median of ${o.speed.iterations}` : 'speed not measured';
  const lines = [
    `# Compression of ${o.teacher}`, '',
    `Dev: ${o.dev}. Speed: ${speed}, on this machine, each model in its own turn.`, '',
    `| step | MB | texts/s | speedup | ${tasks.join(' | ')} | mean | Δ% vs teacher | time |`,
    `|---|---:|---:|---:|${tasks.map(() => '---:|').join('')}---:|---:|---:|`,
  ];
  for (const l of [teacher, ...steps]) {
    const perTask = tasks.map((t) => (100 * (l.tasks.find((x) => x.task === t)?.macroF1 ?? Number.NaN)).toFixed(1));
    lines.push(`| ${l.name} | ${(l.bytes / 1e6).toFixed(1)} | ${l.textsPerSec?.toFixed(1) ?? '–'} | ${l.speedup ? `${l.speedup.toFixed(2)}×` : '–'} | ${perTask.join(' | ')} | ${(100 * l.meanMacroF1).toFixed(1)} | ${l.degradation.toFixed(2)} | ${(l.seconds / 60).toFixed(1)} min |`);
  }
  return `${lines.join('\n')}\n`;
}

export async function runCompression(o: CompressOptions, events: CompressEvents): Promise<{ teacher: ModelLine; steps: readonly ModelLine[] }> {
  const teacherDir = resolveModelDir(o.teacher, '--teacher');
  const inputs = [...inputsOf({ '--teacher': o.teacher, '--train': o.train, '--dev': o.dev, '--tasks': o.tasks, '--transfer': o.transfer }), ...teacherModelInputs(o.teacherModels)];
  const output: OutputSpec = { command: 'compress', path: o.out, inputs };
  checkOutputDir(output, 'write into');
  const state = await readState(o.out, settingsOf(o));
  await claimOutputDir(output);
  await mkdir(join(o.out, 'reports'), { recursive: true });
  const teacher = await teacherLine(state, teacherDir, o, '00-teacher.md', () => saveState(o.out, state));
  events.onLine?.(teacher);
  let current = teacherDir;
  for (const [i, step] of o.recipe.steps.entries()) {
    const name = `${String(i + 1).padStart(2, '0')}-${stepName(step)}`;
    const done = state.steps.find((s) => s.name === name);
    if (done) {
      current = done.model;
      events.onLine?.(done);
      continue;
    }
    events.log(`== step ${i + 1}/${o.recipe.steps.length} ${name}, from ${current}`);
    const started = performance.now();
    const model = await runStep(step, current, join(o.out, name), o, events);
    const { line, scores } = await measure(name, model, o, teacher, (performance.now() - started) / 1000);
    await writeFile(join(o.out, 'reports', `${name}.md`), reportFile(name, line, scores));
    state.steps.push(line);
    await saveState(o.out, state);
    await slimAfterStep(name, join(o.out, name), o.keepCheckpoints, events.log);
    events.onLine?.(line);
    current = model;
  }
  await writeFile(join(o.out, 'report.md'), summaryText(teacher, state.steps, o));
  return { teacher, steps: state.steps };
}
