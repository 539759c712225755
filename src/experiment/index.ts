// The experiment API: the paper's comparisons (multi-task vs single-task, cross-lingual vs monolingual) as one call.
export { COMPARISONS, checkSeeds, parseComparisons, parseList, parseSeeds, type Comparison } from './options.ts';
export {
  DEFAULT_MIN_ROWS,
  planExperiment,
  type DataSubset,
  type ExperimentOptions,
  type ExperimentPlan,
  type PlannedRun,
  type SkippedCell,
  type Variant,
} from './plan.ts';
export { exampleLine, subsetFiles, writeSubset, type SubsetFiles } from './data-files.ts';
export {
  compareRuns,
  CROSSLINGUAL_VARIANTS,
  MULTITASK_VARIANTS,
  type ComparisonResult,
  type ComparisonRowResult,
  type LanguageScore,
  type RunRecord,
  type TaskScores,
  type VariantCell,
} from './results.ts';
export { describeModelSize, modelSize, type ModelSize } from './model-size.ts';
export { renderReport, type DataRecord, type ExperimentResults, type SharedSettings } from './report.ts';
export { runExperiment, runName, type ExperimentEvents, type ExperimentOutcome, type ExperimentSettings, type RunEvent } from './run.ts';
