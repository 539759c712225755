// All shape-inference tables, merged by domain. An op missing here cannot be built.
import type { InferTable } from './context.ts';
import { elementwiseShapes } from './elementwise.ts';
import { layoutShapes } from './layout.ts';
import { microsoftShapes } from './microsoft.ts';
import { linalgShapes } from './linalg.ts';
import { nnShapes } from './nn.ts';
import { reduceShapes } from './reduce.ts';

export const ONNX_DOMAIN = '';
export const MICROSOFT_DOMAIN = 'com.microsoft';

export const shapeRules: Readonly<Record<string, InferTable>> = {
  [ONNX_DOMAIN]: { ...elementwiseShapes, ...linalgShapes, ...nnShapes, ...reduceShapes, ...layoutShapes },
  [MICROSOFT_DOMAIN]: microsoftShapes,
};

export { InferContext, type InferFn, type InferTable, type OutputType } from './context.ts';
