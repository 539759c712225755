// Shape inference for ONNX Runtime's com.microsoft contrib ops used by xlmt graphs.
import { isFloat } from '../../ir/dtype.ts';
import { fail } from '../errors.ts';
import type { InferTable } from './context.ts';

export const microsoftShapes: InferTable = {
  Gelu: (ctx) => {
    const x = ctx.input(0);
    if (!isFloat(x.dtype)) fail(`needs a floating-point input, got ${x.dtype}`);
    return [{ dtype: x.dtype, shape: x.shape }];
  },
};
