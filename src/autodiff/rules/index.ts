// Every gradient rule, merged by domain. Adding an op: a rule in its family's table and a case in the checks.
import type { GradientRules } from '../types.ts';
import { elementwiseGradients } from './elementwise.ts';
import { layoutGradients } from './layout.ts';
import { linalgGradients } from './linalg.ts';
import { microsoftGradients } from './microsoft.ts';
import { nnGradients } from './nn.ts';
import { reduceGradients } from './reduce.ts';

export const gradientRules: Readonly<Record<string, GradientRules>> = {
  '': { ...elementwiseGradients, ...linalgGradients, ...nnGradients, ...reduceGradients, ...layoutGradients },
  'com.microsoft': microsoftGradients,
};
