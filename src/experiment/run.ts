// `xlmt experiment`: trains every run of the plan with runTraining (seed by seed), scores each kept model on its
// dev file with evaluateModel, and writes results.json and report.md. Re-running resumes: runTraining returns at
// once for a finished run and continues an interrupted one from its last checkpoint; every run is re-evaluated.
import { existsSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { loadDataset, loadTaskSchema } from '../data/index.ts';
import { evaluateModel } from '../train/assess.ts';
import { parseTrainConfig, type TrainConfig } from '../train/config.ts';
import { runTraining, type RunResult } from '../train/run.ts';
import { readingOptions } from '../train/setup.ts';
import { checkOutputDir, claimOutputDir, inputsOf, type OutputSpec } from '../util/output-dir.ts';
import { writeSubset, type SubsetFiles } from './data-files.ts';
import { XlmtError } from '../errors/index.ts';
import { modelSize } from './model-size.ts';
import { planExperiment, type ExperimentOptions, type PlannedRun } from './plan.ts';
import { renderReport, type DataRecord, type ExperimentResults } from './report.ts';
import { compareRuns, runRecord, type RunRecord } from './results.ts';

export interface ExperimentSettings extends ExperimentOptions {
  /** The experiment directory: data/, runs/, results.json, report.md. */
  readonly out: string;
  /** ONNX Runtime threads for training and evaluation; the base configuration's when omitted. */
  readonly threads?: number;
}

export interface RunEvent {
  readonly run: PlannedRun;
  /** 1-based position in the plan, and the plan's length. */
  readonly index: number;
  readonly total: number;
  /** false when an earlier invocation had finished the run. */
  readonly trained: boolean;
  readonly result: RunResult;
  readonly seconds: number;
}

export interface ExperimentEvents {
  /** Progress lines: one per run started and finished, and what was left out. */
  log(line: string): void;
  /** After each run is trained (or found finished). */
  onRun?(event: RunEvent): void;
}

export interface ExperimentOutcome {
  readonly results: ExperimentResults;
  readonly report: string;
  readonly resultsFile: string;
  readonly reportFile: string;
}

export async function runExperiment(base: TrainConfig, settings: ExperimentSettings, events: ExperimentEvents): Promise<ExperimentOutcome> {
  const { out } = settings;
  const devFile = base.dev;
  if (devFile === undefined) {
    throw new XlmtError({ code: 'CONFIG_INVALID', where: { field: 'dev' }, message: 'no dev file: every comparison is made on dev scores', hint: 'Add "dev" to the configuration or pass --dev FILE' });
  }
  const output: OutputSpec = {
    command: 'experiment',
    path: out,
    inputs: inputsOf({ '--train': base.train, '--dev': devFile, '--tasks': base.tasks, '--tokenizer': base.tokenizer, '--init': base.init, '--teacher': base.teacher }),
  };
  checkOutputDir(output, 'write into');
  const givenSchema = base.tasks === undefined ? undefined : await loadTaskSchema(base.tasks);
  const reading = readingOptions(base);
  const train = await loadDataset(base.train, givenSchema === undefined ? reading : { ...reading, schema: givenSchema });
  const dev = await loadDataset(devFile, { ...reading, schema: train.schema });
  const plan = planExperiment(train.schema, train.examples, dev.examples, settings);
  // The runs read the JSONL subsets written below, not the source files' CSV layout.
  const { csv: _csv, ...jsonlBase } = base;
  const threads = settings.threads ?? base.threads;

  events.log(`experiment ${out}: ${plan.runs.length} runs (${plan.seeds.length} seeds × ${plan.runs.length / plan.seeds.length}), tasks ${plan.tasks.join(', ')}, languages ${plan.languages.join(', ')}`);
  for (const s of plan.skipped) events.log(`no monolingual ${s.task} model for ${s.lang}: ${s.reason}`);
  const unseen = Object.entries(plan.unseenDevLanguages);
  if (unseen.length > 0) events.log(`dev rows left out, their languages have no training rows: ${unseen.map(([l, n]) => `${l} ${n}`).join(', ')}`);

  await claimOutputDir(output);
  const files = new Map<string, SubsetFiles>();
  const data: DataRecord[] = [];
  for (const subset of plan.data) {
    // Any run directory of this data, whatever its seed, means a model already learned from the files on disk.
    const trained = plan.runs.some((r) => r.data === subset.path && existsSync(join(out, dirname(r.dir))));
    const written = await writeSubset(out, subset, trained);
    files.set(subset.path, written);
    data.push({ path: subset.path, ...written, trainRows: subset.train.length, devRows: subset.dev.length });
  }

  const records: RunRecord[] = [];
  for (const [i, run] of plan.runs.entries()) {
    const index = i + 1;
    const f = files.get(run.data) as SubsetFiles;
    const config = parseTrainConfig({ ...jsonlBase, train: f.train, dev: f.dev, tasks: f.tasks, out: join(out, run.dir), seed: run.seed, threads }, `${run.dir} (from the base configuration)`);
    const name = `[${index}/${plan.runs.length}] ${runName(run)}`;
    const started = Date.now();
    let trained = false;
    const result = await runTraining(config, {
      log: () => {},
      onStart: ({ startStep, totalSteps }) => {
        trained = true;
        events.log(`${name}: ${startStep > 0 ? `resuming at step ${startStep} of ${totalSteps}` : `training, ${totalSteps} steps`} → ${config.out}`);
      },
    });
    const seconds = (Date.now() - started) / 1000;
    const best = result.best === null ? 'no dev score' : `dev macro-F1 ${(100 * result.best.score).toFixed(1)} (epoch ${result.best.epoch})`;
    events.log(trained ? `${name}: done in ${seconds.toFixed(1)} s, ${best}` : `${name}: finished earlier, ${best}`);
    events.onRun?.({ run, index, total: plan.runs.length, trained, result, seconds });
    const evaluation = await evaluateModel(config.out, f.dev, threads, base.evalBatchSize);
    records.push(runRecord(run, { trained, steps: result.steps, epochs: result.epochs, stoppedEarly: result.stoppedEarly, bestEpoch: result.best?.epoch ?? null }, evaluation));
  }

  const { out: _out, seed: _seed, ...shared } = base;
  const firstRun = plan.runs[0] as PlannedRun;
  const results: ExperimentResults = {
    format: 'xlmt-experiment',
    version: 1,
    out,
    compare: plan.compare,
    seeds: plan.seeds,
    tasks: train.schema.tasks.filter((t) => plan.tasks.includes(t.name)).map((t) => ({ name: t.name, type: t.type, labels: t.labels })),
    languages: plan.languages,
    minRows: settings.minRows,
    settings: { ...shared, threads },
    source: { train: { file: base.train, rows: train.examples.length }, dev: { file: devFile, rows: dev.examples.length } },
    model: await modelSize(join(out, firstRun.dir, 'best')),
    data,
    skipped: plan.skipped,
    unseenDevLanguages: plan.unseenDevLanguages,
    runs: records,
    comparisons: compareRuns(plan, records),
  };
  const report = renderReport(results);
  const resultsFile = join(out, 'results.json');
  const reportFile = join(out, 'report.md');
  await writeAtomic(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
  await writeAtomic(reportFile, report);
  return { results, report, resultsFile, reportFile };
}

/** "single-task sentiment seed 1", "monolingual sentiment/de seed 2", "multi-task seed 1". */
export function runName(run: PlannedRun): string {
  const scope = run.task === null ? '' : ` ${run.task}${run.lang === null ? '' : `/${run.lang}`}`;
  return `${run.variant}${scope} seed ${run.seed}`;
}

async function writeAtomic(file: string, text: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(`${file}.tmp`, text);
  await rename(`${file}.tmp`, file);
}
