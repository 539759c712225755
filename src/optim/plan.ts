// Checks a step's gradients against the parameters before anything is updated, so a bad step changes nothing.
import type { Gradients, Parameter, ParamStore } from '../ir/params.ts';
import { badArgument, checkNumber } from './errors.ts';
import { groupRows, rowWidth, type RowGroups } from './rows.ts';

export type PlannedUpdate =
  | { readonly kind: 'dense'; readonly param: Parameter; readonly grad: Float32Array }
  | {
      readonly kind: 'rows';
      readonly param: Parameter;
      readonly values: Float32Array;
      readonly width: number;
      readonly groups: RowGroups;
    };

export function planUpdates(params: ParamStore, grads: Gradients, where: string): PlannedUpdate[] {
  const plan: PlannedUpdate[] = [];
  for (const [name, grad] of grads) {
    const param = params.get(name);
    if (param === undefined) {
      throw badArgument(where, `the gradient has no parameter of that name (the store holds ${params.size} parameters)`, { param: name, hint: 'Pass the ParamStore the gradients were computed for; gradient and parameter names must match' });
    }
    if (grad.kind === 'dense') {
      if (grad.data.length !== param.data.length) {
        throw badArgument(where, `the gradient (shape [${param.shape.join(', ')}]) has the wrong size`, { param: name, expected: `${param.data.length} values`, received: `${grad.data.length}` });
      }
      plan.push({ kind: 'dense', param, grad: grad.data });
    } else {
      const numRows = param.shape[0];
      if (numRows === undefined) {
        throw badArgument(where, `the row gradient, a scalar parameter: row gradients need a table of shape [rows, ...]`, { param: name, expected: 'a dense gradient', received: 'a row gradient' });
      }
      const expectedWidth = numRows > 0 ? param.data.length / numRows : 0;
      const width = rowWidth(grad.indices, grad.values, where, name);
      if (grad.indices.length > 0 && width !== expectedWidth) {
        throw badArgument(where, `the row gradient (shape [${param.shape.join(', ')}]) has rows of the wrong width`, { param: name, expected: `${expectedWidth} values per row`, received: `${width}` });
      }
      const groups = groupRows(grad.indices, numRows, where, name);
      plan.push({ kind: 'rows', param, values: grad.values, width, groups });
    }
  }
  return plan;
}

export function checkLearningRate(where: string, lr: number): void {
  checkNumber(where, 'learning rate', lr, 'a finite number >= 0', (v) => v >= 0);
}
