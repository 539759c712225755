// Old token ids to new ones: the kept ids keep their order and are numbered 0…n−1, so special tokens at the start
// of a vocabulary (XLM-R's <s> <pad> </s> <unk>, BERT's [PAD]) keep their ids.
import { XlmtError } from '../../errors/index.ts';

export class IdMap {
  /** New id per old id, −1 where the id is dropped; one entry per embedding row of the original model. */
  readonly oldToNew: Int32Array;
  /** Old id per new id, ascending. */
  readonly newToOld: Int32Array;

  /** `keep[id]` is 1 for each kept old id; its length is the original row count. */
  constructor(keep: Uint8Array) {
    this.oldToNew = new Int32Array(keep.length).fill(-1);
    const kept: number[] = [];
    keep.forEach((k, id) => {
      if (k === 0) return;
      this.oldToNew[id] = kept.length;
      kept.push(id);
    });
    this.newToOld = Int32Array.from(kept);
  }

  /** Rows before trimming. */
  get rowsBefore(): number {
    return this.oldToNew.length;
  }

  /** Rows after trimming. */
  get size(): number {
    return this.newToOld.length;
  }

  /** The new id, or −1 when the id was dropped (or lies beyond the rows). */
  newId(oldId: number): number {
    return oldId >= 0 && oldId < this.oldToNew.length ? (this.oldToNew[oldId] as number) : -1;
  }

  /** The new id of an id that every selection keeps (a special token); a dropped one is a bug. */
  keptId(oldId: number, what: string): number {
    const id = this.newId(oldId);
    if (id < 0) throw new XlmtError({ code: 'INTERNAL', where: { api: 'IdMap.keptId' }, message: `${what} (id ${oldId}) was dropped, but it is always kept` });
    return id;
  }
}

/** The kept rows of a row-major table of `rows` rows, in new-id order; works on any element type's bytes. */
export function gatherRows(bytes: Uint8Array, rows: number, map: IdMap): Uint8Array {
  const rowBytes = bytes.byteLength / rows;
  const out = new Uint8Array(map.size * rowBytes);
  map.newToOld.forEach((old, row) => out.set(bytes.subarray(old * rowBytes, (old + 1) * rowBytes), row * rowBytes));
  return out;
}
