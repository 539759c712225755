// Every gradient-check table, by op family, and the checks that cannot use finite differences.
import type { ExactCheck, GradCase } from '../gradcheck.ts';
import { distillCases } from './distill.ts';
import { elementwiseCases } from './elementwise.ts';
import { layoutCases } from './layout.ts';
import { linalgCases } from './linalg.ts';
import { maskCases } from './masks.ts';
import { microsoftCases } from './microsoft.ts';
import { nnCases, nnExactChecks } from './nn.ts';
import { quantizeExactChecks } from './quantize.ts';
import { reduceCases } from './reduce.ts';

export const caseTables: Readonly<Record<string, readonly GradCase[]>> = {
  elementwise: elementwiseCases,
  linalg: linalgCases,
  nn: nnCases,
  reduce: reduceCases,
  layout: layoutCases,
  microsoft: microsoftCases,
  masks: maskCases,
  distill: distillCases,
};

export const exactChecks: readonly ExactCheck[] = [...nnExactChecks, ...quantizeExactChecks];
