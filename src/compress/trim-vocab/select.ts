// Which ids a trimmed vocabulary keeps, and why: the special tokens, the tokens the corpus uses at least
// `minCount` times, every one-character piece of the scripts the corpus is written in, the pieces the model type
// needs (model-vocab.ts), and for BPE the parts of the merges that build kept pieces.
import { XlmtError } from '../../errors/index.ts';
import { IdMap } from './id-map.ts';
import type { ScriptSet } from './scripts.ts';
import type { TokenizerVocab } from './tokenizer-json.ts';

export interface KeepInput {
  readonly vocab: TokenizerVocab;
  /** Uses per token id on the corpus (usage.ts). */
  readonly counts: Uint32Array;
  readonly scripts: ScriptSet;
  readonly minCount: number;
  /** Embedding rows of the model: ids beyond the tokenizer's are never used and go. */
  readonly rows: number;
  /** Ids the model's own files name (pad, bos, eos…), kept like special tokens. */
  readonly modelIds: readonly number[];
  /**
   * Ids below this one are all kept, so that it keeps its id: RoBERTa and XLM-R count positions from
   * pad_token_id, so a new pad id would shift every position in transformers.
   */
  readonly keepBelow: number;
}

/** How many kept ids each rule kept first (an id counts once, under the first rule that keeps it, in this order). */
export interface KeptBy {
  readonly special: number;
  readonly used: number;
  readonly singleChar: number;
  readonly model: number;
  readonly merges: number;
}

export interface Selection {
  readonly map: IdMap;
  readonly keptBy: KeptBy;
}

export function selectIds(input: KeepInput): Selection {
  const { vocab, counts, rows } = input;
  if (vocab.tokens.length > rows) {
    throw new XlmtError({
      code: 'TOKENIZER_MISMATCH',
      where: { file: vocab.source },
      message: 'the tokenizer has more tokens than the model has embedding rows',
      expected: `at most ${rows} tokens`,
      received: `${vocab.tokens.length}`,
    });
  }
  const keep = new Uint8Array(rows);
  const mark = (ids: Iterable<number>): number => {
    let added = 0;
    for (const id of ids) {
      if (id < 0 || id >= vocab.tokens.length || vocab.tokens[id] === undefined || keep[id] === 1) continue;
      keep[id] = 1;
      added++;
    }
    return added;
  };
  const ids = [...vocab.tokens.keys()];
  const special = mark([...vocab.specialIds, ...input.modelIds, ...ids.slice(0, input.keepBelow)]);
  const used = mark(ids.filter((id) => (counts[id] ?? 0) >= input.minCount));
  const singleChar = mark(ids.filter((id) => {
    const char = vocab.model.singleChar(vocab.tokens[id] as string);
    return char !== null && input.scripts.covers(char);
  }));
  const model = mark(vocab.model.required);
  const before = keep.reduce((a, b) => a + b, 0);
  vocab.model.close(keep);
  const merges = keep.reduce((a, b) => a + b, 0) - before;
  return { map: new IdMap(keep), keptBy: { special, used, singleChar, model, merges } };
}
