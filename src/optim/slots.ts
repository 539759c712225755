// Per-parameter optimizer buffers (AdamW's moments, SGD's momentum): allocated on first use, saved and restored.
import type { Parameter, ParamStore } from '../ir/params.ts';
import { OptimError } from './errors.ts';
import { stateKey, type OptimizerState } from './optimizer.ts';

export class SlotBuffers {
  /** slot → parameter name → buffer. */
  private buffers = new Map<string, Map<string, Float32Array>>();

  constructor(
    private readonly owner: string,
    private readonly slots: readonly string[],
  ) {
    for (const slot of slots) this.buffers.set(slot, new Map());
  }

  /** The buffer for `param`, zero-filled on first use, as torch's lazily created state. */
  get(slot: string, param: Parameter): Float32Array {
    const bySlot = this.slotMap(slot);
    let buffer = bySlot.get(param.name);
    if (buffer === undefined) {
      buffer = new Float32Array(param.data.length);
      bySlot.set(param.name, buffer);
    } else if (buffer.length !== param.data.length) {
      throw new OptimError({
        code: 'BAD_STATE', where: `${this.owner}.step`, param: param.name,
        problem: `${slot} buffer for "${param.name}" does not match the parameter's size`,
        expected: `${param.data.length} values`, received: `${buffer.length}`,
        hint: 'The optimizer state belongs to a different model; load a matching state or start a fresh optimizer',
      });
    }
    return buffer;
  }

  snapshot(): Map<string, Float32Array> {
    const out = new Map<string, Float32Array>();
    for (const [slot, bySlot] of this.buffers) {
      for (const [name, buffer] of bySlot) out.set(stateKey(slot, name), buffer.slice());
    }
    return out;
  }

  /** Validates every buffer of `state` against `params` before replacing anything. */
  load(state: OptimizerState, params: ParamStore, kind: string): number {
    const where = `${this.owner}.loadState`;
    if (state.kind !== kind) {
      throw new OptimError({
        code: 'BAD_STATE', where, problem: 'the state was saved by a different optimizer',
        expected: `kind "${kind}"`, received: `"${state.kind}"`,
      });
    }
    if (!Number.isInteger(state.step) || state.step < 0) {
      throw new OptimError({
        code: 'BAD_STATE', where, problem: 'invalid step count',
        expected: 'an integer >= 0', received: String(state.step),
      });
    }
    const loaded = new Map<string, Map<string, Float32Array>>();
    for (const slot of this.slots) loaded.set(slot, new Map());
    for (const [key, buffer] of state.buffers) {
      const cut = key.indexOf('/');
      const slot = cut < 0 ? key : key.slice(0, cut);
      const name = cut < 0 ? '' : key.slice(cut + 1);
      const bySlot = loaded.get(slot);
      if (bySlot === undefined) {
        throw new OptimError({
          code: 'BAD_STATE', where, problem: `buffer "${key}" names an unknown slot`,
          expected: `a key "<slot>/<parameter>" with slot ${this.slots.map((s) => `"${s}"`).join(' or ')}`,
          received: `"${key}"`,
        });
      }
      const param = params.get(name);
      if (param === undefined) {
        throw new OptimError({
          code: 'BAD_STATE', where, param: name,
          problem: `buffer "${key}" names parameter "${name}", which the store does not hold`,
          hint: 'The optimizer state belongs to a different model; load a matching state or start a fresh optimizer',
        });
      }
      if (buffer.length !== param.data.length) {
        throw new OptimError({
          code: 'BAD_STATE', where, param: name,
          problem: `buffer "${key}" does not match the size of parameter "${name}" (shape [${param.shape.join(', ')}])`,
          expected: `${param.data.length} values`, received: `${buffer.length}`,
        });
      }
      bySlot.set(name, buffer.slice());
    }
    this.buffers = loaded;
    return state.step;
  }

  private slotMap(slot: string): Map<string, Float32Array> {
    const bySlot = this.buffers.get(slot);
    if (bySlot === undefined) throw new Error(`${this.owner}: internal error, unknown slot "${slot}"`);
    return bySlot;
  }
}
