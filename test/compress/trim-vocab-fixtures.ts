// Tokenizers for the vocabulary-trimming tests: BPE tokenizer.json files learned here from a corpus (the Node
// binding trains no BPE), and a trimming helper that runs the same steps as `xlmt trim-vocab` on a tokenizer alone.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GraphBuilder } from '../../src/builder/builder.ts';
import { serialize } from '../../src/builder/serialize.ts';
import type { IdMap } from '../../src/compress/trim-vocab/id-map.ts';
import { selectIds, type Selection } from '../../src/compress/trim-vocab/select.ts';
import { readTokenizerVocab, trimmedTokenizerJson } from '../../src/compress/trim-vocab/tokenizer-json.ts';
import { countUsage, tokenIds } from '../../src/compress/trim-vocab/usage.ts';
import { TextTokenizer } from '../../src/tokenize/index.ts';
import { Random } from '../../src/util/random.ts';
import { tempDir } from '../tokenize/fixtures.ts';
import { wordPieceJson } from '../train/fixtures.ts';

/** GPT-2's byte-to-character table, written out independently of src/ (bytes_to_unicode). */
function byteChars(): string[] {
  let next = 256;
  return Array.from({ length: 256 }, (_, b) => String.fromCodePoint((b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174 ? b : next++));
}

export interface BpeOptions {
  /** RoBERTa-like byte-level BPE, or BERT-like character BPE with `##` continuations and an unk token. */
  readonly style: 'byte-level' | 'char';
  readonly merges: number;
}

/**
 * A BPE tokenizer.json learned from `corpus` by plain BPE (most frequent adjacent pair first, ties by spelling).
 * Its words approximate the real pre-tokenizers; any merge list over its own vocabulary is a valid BPE model.
 */
export function bpeJson(corpus: readonly string[], options: BpeOptions): string {
  const bytes = byteChars();
  const words = new Map<string, number>();
  for (const text of corpus) {
    text.split(/\s+/).filter((w) => w !== '').forEach((w, i) => {
      const key = options.style === 'byte-level' ? [...Buffer.from(i === 0 ? w : ` ${w}`, 'utf8')].map((b) => bytes[b]).join('') : w;
      words.set(key, (words.get(key) ?? 0) + 1);
    });
  }
  const split = (w: string): string[] => [...w].map((c, i) => (options.style === 'char' && i > 0 ? `##${c}` : c));
  const segmented = [...words].map(([w, n]) => ({ symbols: split(w), n }));
  const specials = options.style === 'char' ? ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] : ['<s>', '<pad>', '</s>', '<unk>'];
  const alphabet = options.style === 'byte-level' ? bytes : [...new Set(segmented.flatMap((s) => s.symbols))].sort();
  const vocab: string[] = [...specials, ...alphabet];
  const merges: [string, string][] = [];
  const join2 = (a: string, b: string): string => a + (options.style === 'char' ? b.replace(/^##/, '') : b);
  // Pair counts kept up to date per word: a merge recounts only the words holding the merged pair.
  const pairs = new Map<string, number>();
  const holders = new Map<string, Set<number>>();
  const count = (w: number, sign: 1 | -1): void => {
    const { symbols, n } = segmented[w] as { symbols: string[]; n: number };
    for (let i = 0; i + 1 < symbols.length; i++) {
      const key = `${symbols[i]}\u0000${symbols[i + 1]}`;
      pairs.set(key, (pairs.get(key) ?? 0) + sign * n);
      if (sign > 0) holders.set(key, (holders.get(key) ?? new Set()).add(w));
    }
  };
  segmented.forEach((_, w) => count(w, 1));
  for (let m = 0; m < options.merges; m++) {
    let best: [string, number] | undefined;
    for (const pair of pairs) if (pair[1] > 0 && (!best || pair[1] > best[1] || (pair[1] === best[1] && pair[0] < best[0]))) best = pair;
    if (!best) break;
    const [a, b] = best[0].split('\u0000') as [string, string];
    merges.push([a, b]);
    const merged = join2(a, b);
    if (!vocab.includes(merged)) vocab.push(merged);
    for (const w of holders.get(best[0]) ?? []) {
      const s = segmented[w] as { symbols: string[]; n: number };
      count(w, -1);
      const out: string[] = [];
      for (let i = 0; i < s.symbols.length; i++) {
        if (s.symbols[i] === a && s.symbols[i + 1] === b) {
          out.push(merged);
          i++;
        } else out.push(s.symbols[i] as string);
      }
      s.symbols = out;
      count(w, 1);
    }
  }
  const ids = Object.fromEntries(vocab.map((t, id) => [t, id]));
  const added = specials.map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }));
  if (options.style === 'byte-level') {
    return JSON.stringify({
      version: '1.0', truncation: null, padding: null, added_tokens: added, normalizer: null,
      pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
      post_processor: { type: 'RobertaProcessing', sep: ['</s>', 2], cls: ['<s>', 0], trim_offsets: true, add_prefix_space: false },
      decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
      model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab: ids, merges },
    });
  }
  const template = {
    type: 'TemplateProcessing',
    single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
    pair: [{ Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
    special_tokens: { '[CLS]': { id: '[CLS]', ids: [2], tokens: ['[CLS]'] }, '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] } },
  };
  return JSON.stringify({
    version: '1.0', truncation: null,
    padding: { strategy: 'BatchLongest', direction: 'Right', pad_to_multiple_of: null, pad_id: 0, pad_type_id: 0, pad_token: '[PAD]' },
    added_tokens: added, normalizer: null,
    pre_tokenizer: { type: 'WhitespaceSplit' },
    post_processor: template,
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    // The older merges spelling, "a b", for this one.
    model: { type: 'BPE', dropout: null, unk_token: '[UNK]', continuing_subword_prefix: '##', end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, vocab: ids, merges: merges.map(([a, b]) => `${a} ${b}`) },
  });
}

export interface Trimmed {
  readonly original: TextTokenizer;
  readonly trimmed: TextTokenizer;
  readonly selection: Selection;
  readonly map: IdMap;
}

/** The tokenizer trimmed to what `corpus` uses (steps of trimVocab without a model: usage, selection, rewrite). */
export async function trimTokenizer(json: string, corpus: readonly string[], minCount = 1): Promise<Trimmed> {
  const original = TextTokenizer.fromJSON(json, 'original tokenizer');
  const file = join(tempDir(), 'corpus.txt');
  writeFileSync(file, `${corpus.join('\n')}\n`);
  const usage = await countUsage(original, [file]);
  const vocab = readTokenizerVocab(original);
  const selection = selectIds({ vocab, counts: usage.counts, scripts: usage.scripts, minCount, rows: original.vocabSize, modelIds: [], keepBelow: 0 });
  const trimmed = TextTokenizer.fromJSON(trimmedTokenizerJson(vocab, selection.map), 'trimmed tokenizer');
  return { original, trimmed, selection, map: selection.map };
}

export interface Comparison {
  readonly texts: number;
  /** Texts whose original pieces all survived: each was checked to tokenize identically. */
  readonly survived: number;
  /** Texts whose original pieces did not all survive. */
  readonly changed: string[];
}

/**
 * Tokenizes every text with both tokenizers; a text whose pieces all survived must give the same pieces (as
 * strings) and the renumbered ids. Fails the test on the first one that does not.
 */
export async function compare(t: Trimmed, texts: readonly string[]): Promise<Comparison> {
  const [before, after] = await Promise.all([tokenIds(t.original, texts), tokenIds(t.trimmed, texts)]);
  let survived = 0;
  const changed: string[] = [];
  texts.forEach((text, i) => {
    const a = before[i] as Int32Array;
    const b = after[i] as Int32Array;
    if (!a.every((id) => t.map.newId(id) >= 0)) {
      changed.push(text);
      return;
    }
    const piecesA = Array.from(a, (id) => t.original.idToToken(id));
    const piecesB = Array.from(b, (id) => t.trimmed.idToToken(id));
    if (JSON.stringify(piecesA) !== JSON.stringify(piecesB) || !a.every((id, k) => t.map.newId(id) === b[k])) {
      throw new Error(`tokenized differently: ${JSON.stringify(text)}\n  before ${piecesA.join(' ')}\n  after  ${piecesB.join(' ')}`);
    }
    survived++;
  });
  return { texts: texts.length, survived, changed };
}

export interface CraftedExportOptions {
  /** Adds 0.05 × the largest token id of a text to its first logit: renumbered ids then change the probabilities. */
  readonly idDependent: boolean;
}

/**
 * An export directory around a hand-built graph (no encoder): a [120, 2] table gathered at Cast(input_ids) and a
 * [120] per-row scale gathered at input_ids itself, as an int8 embedding's scales would be; their masked sum over
 * the sequence, softmaxed, is `probs:sentiment`. The tokenizer is the run fixture's WordPiece (120 tokens).
 */
export function craftedExport(dir: string, options: CraftedExportOptions): void {
  const g = new GraphBuilder('crafted');
  const { op } = g;
  const ids = g.input('input_ids', 'int64', ['batch', 'seq']);
  const mask = g.input('attention_mask', 'int64', ['batch', 'seq']);
  const rows = op.Gather(g.param('table', [120, 2]), op.Cast(ids, 'int32')); // [batch, seq, 2]
  const scale = op.Unsqueeze(op.Gather(g.param('scale', [120]), ids), [2]); // [batch, seq, 1]
  const weight = op.Unsqueeze(op.Cast(mask, 'float32'), [2]); // [batch, seq, 1]
  let logits = op.ReduceSum(op.Mul(op.Mul(rows, scale), weight), [1], { keepdims: false }); // [batch, 2]
  // [batch, 1] · [2]: the largest id moves the first logit only (a shift of both would cancel in the softmax).
  if (options.idDependent) logits = op.Add(logits, op.Mul(op.Cast(op.ReduceMax(ids, [1], { keepdims: true }), 'float32'), g.param('direction', [2])));
  g.output('probs:sentiment', op.Softmax(logits, { axis: -1 }));
  const random = new Random(3);
  const params = new Map([
    ['table', { name: 'table', shape: [120, 2], data: Float32Array.from({ length: 240 }, () => random.normal()) }],
    ['scale', { name: 'scale', shape: [120], data: Float32Array.from({ length: 120 }, () => 0.5 + random.next()) }],
    ['direction', { name: 'direction', shape: [2], data: Float32Array.of(0.05, 0) }],
  ]);
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  writeFileSync(join(dir, 'onnx', 'model.onnx'), serialize(g.build(), { params }));
  writeFileSync(join(dir, 'tokenizer.json'), wordPieceJson(120));
  writeFileSync(join(dir, 'tasks.json'), JSON.stringify({ sentiment: { type: 'multiclass', labels: ['negative', 'positive'] } }));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'bert', vocab_size: 120, pad_token_id: 0 }));
  writeFileSync(join(dir, 'xlmt.json'), JSON.stringify({
    format: 'xlmt-model', version: 1, pooling: 'cls', headStyle: 'linear', maxLength: 16, padId: 0, positions: { convention: 'bert' }, thresholds: {}, info: {},
  }));
}

/** The rows of `file` (JSONL) whose lang is `lang`, written to `out`. */
export function rowsOf(file: string, lang: string, out: string): string {
  const rows = readFileSync(file, 'utf8').trim().split('\n').filter((l) => (JSON.parse(l) as { lang: string }).lang === lang);
  writeFileSync(out, `${rows.join('\n')}\n`);
  return out;
}
