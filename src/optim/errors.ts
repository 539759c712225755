// How optimizers, schedules and gradient utilities fail: XlmtErrors naming the API (`AdamW.step`) and, where one
// is concerned, the parameter as `where.tensor`. Bad arguments and mismatched gradients are BAD_ARGUMENT; a saved
// state that does not fit is BAD_OPTIMIZER_STATE.
import { XlmtError, type ErrorData } from '../errors/index.ts';

type Details = Pick<ErrorData, 'expected' | 'received' | 'hint'>;

/** A gradient (or a call) the API cannot take; `param` names the parameter concerned, when one is. */
export function badArgument(api: string, message: string, details: Details & { readonly param?: string } = {}): XlmtError {
  const { param, ...rest } = details;
  return new XlmtError({ code: 'BAD_ARGUMENT', message, where: param === undefined ? { api } : { api, tensor: param }, ...rest });
}

/** A saved optimizer state that does not fit the optimizer or the parameters. */
export function badState(api: string, message: string, details: Details & { readonly param?: string } = {}): XlmtError {
  const { param, ...rest } = details;
  return new XlmtError({ code: 'BAD_OPTIMIZER_STATE', message, where: param === undefined ? { api } : { api, tensor: param }, ...rest });
}

/** Throws BAD_ARGUMENT unless `value` is a finite number passing `ok`; `expected` describes what passes. */
export function checkNumber(api: string, name: string, value: number, expected: string, ok: (v: number) => boolean): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || !ok(value)) {
    throw new XlmtError({ code: 'BAD_ARGUMENT', message: `invalid ${name}`, where: { api, field: name }, expected, received: String(value) });
  }
}
