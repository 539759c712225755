// `xlmt train --teacher-model`: a classifier run whose loss is Eq. 2 against teachers run online beside it
// (online-objective.ts). The teachers are loaded and checked against the student's tasks before the run directory
// is claimed (a refusal writes nothing), released however the run ends, and their forward time per step is
// logged when it ends.
import type { TrainConfig } from '../../train/config.ts';
import { type ClassifierObjective, type RunEvents, type RunResult, runOutput, trainClassifier } from '../../train/run.ts';
import { setupRun } from '../../train/setup.ts';
import { XlmtError } from '../../errors/index.ts';
import type { DistillationOptions } from './kd-loss.ts';
import { distillationGraph, onlineObjective } from './online-objective.ts';
import { describeStepCost, TeacherStepMeter } from './teacher-cost.ts';
import { type LoadedTeacherMap, loadTeacherMap, parseTeacherFlags, TEACHER_FLAG, type TeacherAssignment } from './teacher-map.ts';
import { join } from 'node:path';
import { readHfConfig } from '../../checkpoint/index.ts';
import type { EncoderConfig } from '../../models/config.ts';
import { describeIntermediate, intermediateFlags, type IntermediatePlan, planIntermediate, usesIntermediate } from './intermediate.ts';
import { isEncoderTeacher, type Teacher } from './teacher.ts';
import { tokenizerHash } from './teacher-encoding.ts';
import { locateTeacher } from './teacher-source.ts';
import { type CachedTeacherMap, cachedTeacherMap } from './teacher-map-cached.ts';

/** One line on who teaches what, and how. */
function describeTeachers(map: LoadedTeacherMap, options: DistillationOptions, intermediate: boolean): string {
  const tasks = [...map.byTask].map(([task, teachers]) => `${task} ← ${teachers.map((t) => t.path).join(' + ')}${teachers.length > 1 ? ' (mean)' : ''}`);
  let how = `Eq. 2 with F = ${options.temperature}, α = ${options.alpha}`;
  if (options.alpha === 0) {
    how = intermediate
      ? 'α = 0: no logit term, the teacher runs for the intermediate layers\' terms beside the gold labels'
      : 'α = 0: the teachers are checked but not run, the loss is the gold labels\' alone';
  }
  return `teachers: ${tasks.join('; ')}; ${how}`;
}

/**
 * The encoder of the one teacher of intermediate-layer transfer, read before the student's graph is built (its
 * sizes shape the graph). Refused: several teachers, and an export (it gives logits only).
 */
async function intermediateTeacherEncoder(config: TrainConfig, assignments: readonly TeacherAssignment[]): Promise<EncoderConfig> {
  const flags = intermediateFlags(config);
  const sources = [...new Map(assignments.map((a) => {
    const source = locateTeacher(a.path, `${TEACHER_FLAG} ${a.value}`);
    return [source.dir, { ...source, path: a.path }] as const;
  })).values()];
  const [source, ...others] = sources;
  if (source === undefined || others.length > 0) {
    throw new XlmtError({
      code: 'BAD_OPTION',
      where: { field: TEACHER_FLAG },
      message: `${flags} take one teacher, and ${sources.length} are given`,
      expected: 'one --teacher-model directory: its layers are the ones the student\'s are matched to',
      received: sources.map((s) => s.path).join(', '),
      hint: 'distil the intermediate layers from one teacher, or drop the intermediate weights',
    });
  }
  if (source.kind === 'export' || source.kind === 'baseline') {
    throw new XlmtError({
      code: 'TEACHER_NO_STATES',
      where: { file: source.path, field: flags },
      message: `intermediate-layer transfer was asked of ${source.kind === 'export' ? 'an export' : 'a baseline'}, which gives logits only`,
      expected: 'a run or model directory as the teacher of intermediate-layer transfer',
      hint: source.kind === 'export' ? 'give the run or model directory the export was made from' : 'give an encoder teacher for the intermediate layers',
    });
  }
  return (await readHfConfig(join(source.dir, 'config.json'))).config.encoder;
}

/** The teacher must read the student's ids as they are: the same tokenizer, texts cut at the same length. */
function checkSameEncoding(config: TrainConfig, teacher: Teacher, studentTokenizer: string): void {
  if (teacher.tokenizerHash !== studentTokenizer) {
    throw new XlmtError({
      code: 'TOKENIZER_MISMATCH',
      where: { file: teacher.path, field: intermediateFlags(config) },
      message: 'the teacher\'s tokenizer is not the student\'s: their tokens, and so their hidden states, cannot be aligned',
      expected: 'the student trained with the teacher\'s tokenizer.json',
      hint: 'give --tokenizer the teacher\'s tokenizer.json (or --init a checkpoint that has it), or drop the intermediate weights',
    });
  }
  if (teacher.maxLength < config.maxLength) {
    throw new XlmtError({
      code: 'BAD_OPTION',
      where: { field: '--max-length' },
      message: `the teacher reads at most ${teacher.maxLength} tokens, fewer than the student's ${config.maxLength}: longer texts would not line up`,
      expected: `at most ${teacher.maxLength}`,
      received: String(config.maxLength),
    });
  }
}

export async function runOnlineDistillation(config: TrainConfig, events: RunEvents): Promise<RunResult> {
  const values = config.teacherModel;
  if (values === undefined) {
    throw new XlmtError({ code: 'BAD_ARGUMENT', where: { api: 'runOnlineDistillation', field: 'teacherModel' }, message: 'no online teacher given', hint: 'call runTraining for a run without online teachers' });
  }
  // Parsed first, so a malformed value is refused before any data is read; the directories are inputs of the run.
  const assignments = parseTeacherFlags(values);
  const output = runOutput(config, assignments.map((a) => ({ flag: TEACHER_FLAG, path: a.path })));
  const options: DistillationOptions = { temperature: config.kdTemperature, alpha: config.kdAlpha };
  const meter = new TeacherStepMeter();
  const loaded: { map?: LoadedTeacherMap; cache?: CachedTeacherMap } = {};
  const setup = async (): Promise<ClassifierObjective> => {
    const teacherEncoder = usesIntermediate(config) ? await intermediateTeacherEncoder(config, assignments) : null;
    const plans: IntermediatePlan[] = [];
    const graph = teacherEncoder === null ? distillationGraph(options) : distillationGraph(options, (student) => {
      const plan = planIntermediate(config, student, teacherEncoder);
      plans.push(plan);
      return plan;
    });
    const run = await setupRun(config, events.log, graph);
    loaded.map = await loadTeacherMap(values, run.schema.tasks, { threads: config.threads, maxLength: config.maxLength });
    events.log(describeTeachers(loaded.map, options, teacherEncoder !== null));
    const plan = plans[0];
    const teacher = loaded.map.teachers[0];
    if (plan === undefined || teacher === undefined) {
      if (config.teacherCache === undefined) return onlineObjective(config, run, { map: loaded.map, fingerprints: loaded.map.teachers, meter }, events);
      const cached = await cachedTeacherMap(loaded.map, config.teacherCache);
      loaded.cache = cached;
      return onlineObjective(config, run, { map: cached.map, fingerprints: loaded.map.teachers, meter, flush: cached.save }, events);
    }
    if (!isEncoderTeacher(teacher)) throw new XlmtError({ code: 'BAD_ARGUMENT', where: { api: 'runOnlineDistillation', file: teacher.path }, message: 'the intermediate layers\' teacher has no encoder' });
    checkSameEncoding(config, teacher, tokenizerHash(run.tokenizer));
    events.log(describeIntermediate(plan));
    return onlineObjective(config, run, { map: loaded.map, fingerprints: loaded.map.teachers, meter, intermediate: { teacher, plan } }, events);
  };
  try {
    const result = await trainClassifier(config, output, setup, events);
    const cost = meter.summary();
    if (cost !== null && options.alpha > 0) events.log(describeStepCost(cost));
    const cache = loaded.cache?.counts();
    if (cache) events.log(`teacher cache: ${cache.hits} rows read from ${cache.files.join(', ')}, ${cache.computed} computed by the teachers and stored`);
    return result;
  } finally {
    await loaded.map?.release();
  }
}
