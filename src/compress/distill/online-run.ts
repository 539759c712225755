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
import { type LoadedTeacherMap, loadTeacherMap, parseTeacherFlags, TEACHER_FLAG } from './teacher-map.ts';

/** One line on who teaches what, and how. */
function describeTeachers(map: LoadedTeacherMap, options: DistillationOptions): string {
  const tasks = [...map.byTask].map(([task, teachers]) => `${task} ← ${teachers.map((t) => t.path).join(' + ')}${teachers.length > 1 ? ' (mean)' : ''}`);
  const how = options.alpha === 0
    ? 'α = 0: the teachers are checked but not run, the loss is the gold labels\' alone'
    : `Eq. 2 with F = ${options.temperature}, α = ${options.alpha}`;
  return `teachers: ${tasks.join('; ')}; ${how}`;
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
  const loaded: { map?: LoadedTeacherMap } = {};
  const setup = async (): Promise<ClassifierObjective> => {
    const run = await setupRun(config, events.log, distillationGraph(options));
    loaded.map = await loadTeacherMap(values, run.schema.tasks, { threads: config.threads, maxLength: config.maxLength });
    events.log(describeTeachers(loaded.map, options));
    return onlineObjective(config, run, { map: loaded.map, fingerprints: loaded.map.teachers, meter }, events);
  };
  try {
    const result = await trainClassifier(config, output, setup, events);
    const cost = meter.summary();
    if (cost !== null && options.alpha > 0) events.log(describeStepCost(cost));
    return result;
  } finally {
    await loaded.map?.release();
  }
}
