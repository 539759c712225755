// `xlmt distill`: XtremeDistil's stages as one command. Each stage is an `xlmt train` run with online teachers in
// OUT/<stage>, starting from the model the stages before it left; each ends with a dev report, and a stage whose
// best dev score is below the model it started from is rolled back (the next stage starts from that model again).
// OUT/distill.json records the settings and every finished stage, so after a kill the same command skips what is
// done and resumes the stage that was running from its last checkpoint. OUT/best is the final model.
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { isPresetName, readHfConfig } from '../../../checkpoint/index.ts';
import { writeFileAtomic } from '../../../checkpoint/atomic.ts';
import { XlmtError } from '../../../errors/index.ts';
import { readModelMeta } from '../../../model-dir/index.ts';
import { evaluateModel, resolveModelDir } from '../../../train/assess.ts';
import type { RunEvents } from '../../../train/run.ts';
import { slimAfterStep } from '../../../train/loop/slim.ts';
import { checkOutputDir, claimOutputDir, inputsOf, type InputPath, type OutputSpec, replaceDir } from '../../../util/output-dir.ts';
import { runOnlineDistillation } from '../online-run.ts';
import { initStudent } from '../student-init.ts';
import { parseTeacherFlags, TEACHER_FLAG } from '../teacher-map.ts';
import { locateTeacher, type TeacherSource } from '../teacher-source.ts';
import { type DistillConfig, stageTrainConfig, type StudentDefaults } from './config.ts';
import { planStages, type PlannedStage } from './plan.ts';
import { stageReportText, type StageResult, summaryText } from './report.ts';

const STATE_FILE = 'distill.json';

interface DistillState {
  readonly format: 'xlmt-distill';
  readonly version: 1;
  /** The configuration the run began with, threads left out: a resumed run must match it. */
  readonly settings: unknown;
  readonly stages: StageResult[];
}

export interface DistillEvents extends RunEvents {
  /** A stage is about to start (or resume). */
  onStage?(stage: PlannedStage, index: number, of: number, from: string): void;
  onStageEnd?(result: StageResult): void;
}

export interface DistillResult {
  readonly out: string;
  readonly stages: readonly StageResult[];
  /** OUT/best: the model the last kept stage left. */
  readonly model: string;
}

/** The configuration without what changes only speed. */
function settingsOf(config: DistillConfig): unknown {
  const strip = (section: Record<string, unknown>): Record<string, unknown> => Object.fromEntries(Object.entries(section).filter(([k]) => k !== 'threads' && k !== 'evalBatchSize'));
  const { keepCheckpoints: _keep, ...kept } = config; // what may change between runs
  return JSON.parse(JSON.stringify({
    ...kept, common: strip(config.common), representation: strip(config.representation), logits: strip(config.logits), unfreeze: strip(config.unfreeze), finetune: strip(config.finetune),
  })) as unknown;
}

async function readState(out: string, settings: unknown): Promise<DistillState> {
  const file = join(out, STATE_FILE);
  if (!existsSync(file)) return { format: 'xlmt-distill', version: 1, settings, stages: [] };
  let state: DistillState;
  try {
    state = JSON.parse(await readFile(file, 'utf8')) as DistillState;
  } catch (e) {
    throw new XlmtError({ code: 'CONFIG_INVALID', where: { file }, message: `cannot read the distillation's state: ${(e as Error).message}`, hint: 'choose another --out' }, { cause: e });
  }
  if (JSON.stringify(state.settings) !== JSON.stringify(settings)) {
    throw new XlmtError({
      code: 'RUN_SETTINGS_CHANGED', where: { file: out },
      message: 'holds an unfinished distillation with other settings',
      received: file,
      hint: 'resume with the same configuration (threads may differ) or choose another --out',
    });
  }
  return state;
}

const saveState = (out: string, state: DistillState): Promise<void> =>
  writeFileAtomic(join(out, STATE_FILE), [new TextEncoder().encode(`${JSON.stringify(state, null, 2)}\n`)]);

/** The teachers' directories, located (and so checked) before anything is written. */
function teacherSources(config: DistillConfig): (TeacherSource & { readonly path: string })[] {
  const seen = new Map<string, TeacherSource & { path: string }>();
  for (const a of parseTeacherFlags(config.teacherModel)) {
    const source = locateTeacher(a.path, `${TEACHER_FLAG} ${a.value}`);
    if (!seen.has(source.dir)) seen.set(source.dir, { ...source, path: a.path });
  }
  return [...seen.values()];
}

/** The representation stage matches the student's layers to one teacher's, which must have weights to run. */
function checkRepresentationTeacher(config: DistillConfig, teachers: readonly (TeacherSource & { path: string })[]): void {
  if (!config.stages.includes('representation')) return;
  const [teacher, ...others] = teachers;
  if (teacher === undefined || others.length > 0) {
    throw new XlmtError({
      code: 'BAD_OPTION', where: { field: TEACHER_FLAG },
      message: `the representation stage matches the student's layers to one teacher's, and ${teachers.length} are given`,
      received: teachers.map((t) => t.path).join(', '),
      hint: 'give one --teacher-model, or leave the representation stage out (--stages logits,unfreeze,finetune)',
    });
  }
  if (teacher.kind === 'export' || teacher.kind === 'baseline') {
    throw new XlmtError({
      code: 'TEACHER_NO_STATES', where: { file: teacher.path, field: TEACHER_FLAG },
      message: `the representation stage needs the teacher's hidden states, and ${teacher.kind === 'export' ? 'an export' : 'a baseline'} gives logits only`,
      hint: `give ${teacher.kind === 'export' ? 'the run or model directory the export was made from' : 'an encoder teacher'}, or leave the representation stage out`,
    });
  }
}

/** The student's model directory: made from the teacher for a preset (once), or the directory given. */
async function studentModel(config: DistillConfig, teachers: readonly (TeacherSource & { path: string })[], log: (line: string) => void): Promise<string> {
  if (!isPresetName(config.student)) return resolveModelDir(config.student, '--student');
  const dir = join(config.out, 'student');
  if (existsSync(join(dir, 'xlmt.json'))) return dir;
  const teacher = teachers.find((t) => t.kind !== 'export' && t.kind !== 'baseline');
  if (teacher === undefined) {
    throw new XlmtError({
      code: 'BAD_OPTION', where: { field: '--student' },
      message: 'a student from a preset is made from a teacher\'s weights, and every teacher given is an export or a baseline',
      hint: 'give a teacher\'s run or model directory, or a student directory (xlmt init-student) as --student',
    });
  }
  const report = await initStudent(teacher.dir, dir, { preset: config.student });
  log(`student: ${config.student} made from ${teacher.dir}: ${report.parametersStudent.toLocaleString('en')} parameters (${((100 * report.parametersStudent) / report.parametersTeacher).toFixed(1)}% of the teacher's)`);
  return dir;
}

async function studentDefaults(dir: string): Promise<{ defaults: StudentDefaults; layers: number }> {
  const meta = await readModelMeta(dir);
  const hf = await readHfConfig(join(dir, 'config.json'));
  return { defaults: { pooling: meta.pooling, headStyle: meta.headStyle, maxLength: meta.maxLength }, layers: hf.config.encoder.numHiddenLayers };
}

export async function runDistillation(config: DistillConfig, origin: string, events: DistillEvents): Promise<DistillResult> {
  const teachers = teacherSources(config);
  checkRepresentationTeacher(config, teachers);
  const inputs: InputPath[] = [
    ...inputsOf({ '--train': config.train, '--dev': config.dev, '--tasks': config.tasks, '--transfer': config.transfer, ...(isPresetName(config.student) ? {} : { '--student': config.student }) }),
    ...teachers.map((t) => ({ flag: `${TEACHER_FLAG} ${t.path}`, path: t.path })),
  ];
  const output: OutputSpec = { command: 'distill', path: config.out, inputs };
  checkOutputDir(output, 'write into');
  const settings = settingsOf(config);
  const state = await readState(config.out, settings);
  await claimOutputDir(output);
  await saveState(config.out, state);

  const student = await studentModel(config, teachers, events.log);
  const { defaults, layers } = await studentDefaults(student);
  const planned = planStages(config.stages, layers, defaults.headStyle, config.unfreezeGroup);
  await mkdir(join(config.out, 'reports'), { recursive: true });
  let current: { model: string; score: number | null } = { model: student, score: null };
  const results: StageResult[] = [];
  for (const [index, stage] of planned.entries()) {
    const done = state.stages.find((s) => s.name === stage.name);
    const result = done ?? await runStage(config, origin, stage, current, defaults, { index, of: planned.length }, events);
    if (!done) {
      state.stages.push(result);
      await saveState(config.out, state);
      await slimAfterStep(`stage ${stage.name}`, result.run, config.keepCheckpoints, events.log);
    }
    results.push(result);
    events.onStageEnd?.(result);
    if (result.kept) current = { model: result.model, score: result.devMeanMacroF1 };
  }
  const best = join(config.out, 'best');
  await replaceDir(best, 'distill', (dir) => cp(current.model, dir, { recursive: true, filter: (src) => !src.endsWith('.xlmt-output.json') }));
  await writeFile(join(config.out, 'report.md'), summaryText(config, results, best));
  return { out: config.out, stages: results, model: best };
}

async function runStage(
  config: DistillConfig, origin: string, stage: PlannedStage, from: { model: string; score: number | null }, defaults: StudentDefaults,
  position: { index: number; of: number }, events: DistillEvents,
): Promise<StageResult> {
  const run = join(config.out, stage.name);
  const trainConfig = stageTrainConfig(config, stage.stage, { out: run, init: from.model, student: defaults, ...(stage.trainable ? { trainable: stage.trainable } : {}) }, origin);
  events.onStage?.(stage, position.index, position.of, from.model);
  const started = performance.now();
  const trained = await runOnlineDistillation(trainConfig, events);
  const model = join(run, 'best');
  const evaluation = await evaluateModel(model, config.dev, trainConfig.threads);
  const seconds = (performance.now() - started) / 1000;
  const score = evaluation.summary.meanMacroF1;
  // The representation stage is not judged by dev: its loss is on hidden states, and the heads do not learn in it.
  const kept = stage.stage === 'representation' || from.score === null || score >= from.score;
  const result: StageResult = {
    name: stage.name, stage: stage.stage, trains: stage.trains, run, model, from: from.model,
    steps: trained.steps, epochs: trained.epochs, stoppedEarly: trained.stoppedEarly,
    devMeanMacroF1: score, tasks: evaluation.summary.tasks.map((t) => ({ task: t.task, macroF1: t.macroF1 })),
    kept, ...(kept ? {} : { rolledBackTo: from.model }), seconds,
  };
  await writeFile(join(config.out, 'reports', `${stage.name}.md`), stageReportText(result, evaluation.reports));
  return result;
}
