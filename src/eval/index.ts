// The evaluation API: F1 family metrics, multilabel thresholds, task reports, run statistics and markdown tables.
export type { MulticlassPredictions, MultilabelPredictions, Task, TaskPredictions, TaskType } from './types.ts';
export {
  accuracy,
  confusionMatrix,
  countsFromConfusion,
  f1Score,
  isPresent,
  labelScore,
  macroF1,
  microF1,
  multilabelCounts,
  subsetAccuracy,
  type LabelCounts,
  type LabelScore,
  type MacroF1,
} from './f1.ts';
export {
  DEFAULT_THRESHOLD,
  applyThresholds,
  scoreThresholds,
  tuneGlobalThreshold,
  tuneThresholds,
  type ThresholdOptions,
  type TunedThresholds,
} from './thresholds.ts';
export {
  evaluateTask,
  summarizeTasks,
  type Confusion,
  type EvaluateOptions,
  type LabelReport,
  type LanguageReport,
  type MultiTaskSummary,
  type TaskReport,
  type TaskScore,
  type ThresholdSource,
} from './report.ts';
export { studentTCdf, studentTQuantile } from './student-t.ts';
export { normalQuantile } from './normal.ts';
export {
  degradation,
  mean,
  relativeDegradation,
  sampleSd,
  summarizeRuns,
  type ConfidenceInterval,
  type Degradation,
  type DegradationOptions,
  type RunSummary,
} from './stats.ts';
export {
  comparisonTable,
  formatDegradation,
  formatRuns,
  formatScore,
  taskLanguageTable,
  type ComparisonRow,
  type ComparisonTable,
} from './tables.ts';
