// Codes of metrics, optimizers, the TF-IDF baseline, experiments and batch prediction. Most of their failures are
// common codes (BAD_OPTION, BAD_ARGUMENT, NON_FINITE, BAD_MODEL); these are the ones no common code says.
import type { CodeTable } from '../types.ts';

export const evaluateCodes = {
  BAD_OPTIMIZER_STATE: { kind: 'input', summary: 'a saved optimizer state does not fit: another optimizer\'s, a bad step count, or buffers for parameters the model lacks or of another size; `where.tensor` names the parameter' },
  INPUT_CHANGED: { kind: 'usage', summary: 'an input changed since an earlier run of the same job used it: the file an interrupted `xlmt predict` read, or the filtered data an experiment\'s runs trained on' },
  OPTIONS_CHANGED: { kind: 'usage', summary: 'the options of a resumed `xlmt predict` differ from those the interrupted run started with; --restart starts over' },
  BAD_PROGRESS: { kind: 'input', summary: 'the progress file of an interrupted `xlmt predict` is unreadable, or the output is shorter than it records; --restart starts over' },
} as const satisfies CodeTable;
