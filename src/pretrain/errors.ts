// The pretraining module's error: an XlmtError (codes in src/errors/codes/train.ts) that names its area.
import { XlmtError, type ErrorData } from '../errors/index.ts';

export class PretrainError extends XlmtError {
  constructor(data: ErrorData, options?: ErrorOptions) {
    super(data, options);
    this.name = 'PretrainError';
  }
}

export { preview } from '../errors/index.ts';
