// Per-parameter optimizer buffers (AdamW's moments, SGD's momentum): allocated on first use, saved and restored.
import { XlmtError } from '../errors/index.ts';
import type { Parameter, ParamStore } from '../ir/params.ts';
import { badState } from './errors.ts';
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
      throw badState(`${this.owner}.step`, `the ${slot} buffer does not match the parameter's size`, {
        param: param.name,
        expected: `${param.data.length} values`,
        received: `${buffer.length}`,
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
      throw badState(where, 'the state was saved by a different optimizer', { expected: `kind "${kind}"`, received: `"${state.kind}"` });
    }
    if (!Number.isInteger(state.step) || state.step < 0) {
      throw badState(where, 'invalid step count', { expected: 'an integer >= 0', received: String(state.step) });
    }
    const loaded = new Map<string, Map<string, Float32Array>>();
    for (const slot of this.slots) loaded.set(slot, new Map());
    for (const [key, buffer] of state.buffers) {
      const cut = key.indexOf('/');
      const slot = cut < 0 ? key : key.slice(0, cut);
      const name = cut < 0 ? '' : key.slice(cut + 1);
      const bySlot = loaded.get(slot);
      if (bySlot === undefined) {
        throw badState(where, `buffer "${key}" names an unknown slot`, {
          expected: `a key "<slot>/<parameter>" with slot ${this.slots.map((s) => `"${s}"`).join(' or ')}`,
          received: `"${key}"`,
        });
      }
      const param = params.get(name);
      if (param === undefined) {
        throw badState(where, `buffer "${key}" names parameter "${name}", which the store does not hold`, { param: name, hint: 'The optimizer state belongs to a different model; load a matching state or start a fresh optimizer' });
      }
      if (buffer.length !== param.data.length) {
        throw badState(where, `buffer "${key}" does not match the size of the parameter (shape [${param.shape.join(', ')}])`, { param: name, expected: `${param.data.length} values`, received: `${buffer.length}` });
      }
      bySlot.set(name, buffer.slice());
    }
    this.buffers = loaded;
    return state.step;
  }

  private slotMap(slot: string): Map<string, Float32Array> {
    const bySlot = this.buffers.get(slot);
    if (bySlot === undefined) throw new XlmtError({ code: 'INTERNAL', message: `unknown slot "${slot}"`, where: { api: this.owner } });
    return bySlot;
  }
}
