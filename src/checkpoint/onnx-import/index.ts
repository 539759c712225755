// `xlmt import --from model.onnx`: an exported BERT/XLM-R encoder (torch.onnx, Optimum/transformers.js, ONNX
// Runtime's optimizer and quantizers) back to a Hugging Face checkpoint directory that `train --init` takes. The
// structure is matched (match.ts), the weights named and transposed (map.ts), and the result checked against the
// ONNX file itself in ONNX Runtime before anything is written (check.ts).
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { toXlmtError, XlmtError } from '../../errors/index.ts';
import type { TensorData } from '../../ir/tensor.ts';
import { type PositionConvention, TextTokenizer } from '../../tokenize/index.ts';
import { checkOutputDir, inputsOf, type OutputSpec, writeOutputDir } from '../../util/output-dir.ts';
import { hfModelConfig, type HfModelConfig } from '../hf-config.ts';
import { saveHfModel } from '../hf-model.ts';
import { type Batch, maxAbsDiff, maxAbsDiffOnTokens, runOnnx, runXlmt } from './check.ts';
import { epsilons, mapEncoder, quantizations, type Tables } from './map.ts';
import { checkpoints, type Lookup, matchEncoder, type MatchedEncoder, unrecognized } from './match.ts';
import { OnnxGraph } from './read.ts';

/** Float weights computed in float: only the order of float operations differs (ONNX Runtime's fused kernels). */
export const FP32_TOLERANCE = 1e-4;
/**
 * Activations quantized to uint8 at run time (MatMulInteger, DynamicQuantizeMatMul, QAttention): the file computes
 * with a per-tensor activation step of range/255 that xlmt's float graph does not take, so their hidden states
 * differ by about that step times the weights' norm, compounding over layers. Weights are the same either way.
 */
export const DYNAMIC_TOLERANCE = 0.1;

const CHECK_TEXTS = ['the service was great today', 'awful', 'der dienst war heute schlecht und langsam, toll.', 'Ünïcode ✓ 123'];

export interface OnnxImportOptions {
  readonly tokenizer: string;
}

export interface StageCheck {
  /** embeddings, layer 0, …, pooler */
  readonly stage: string;
  readonly maxAbsDiff: number;
}

export interface OnnxImportReport {
  readonly config: HfModelConfig;
  readonly quantization: readonly string[];
  readonly tolerance: number;
  readonly check: readonly StageCheck[];
  readonly warnings: readonly string[];
}

function loadTokenizer(path: string): TextTokenizer {
  try {
    return TextTokenizer.fromFile(path);
  } catch (e) {
    const cause = toXlmtError(e);
    const code = cause.code === 'FILE_NOT_FOUND' || cause.code === 'IO_FAILED' ? cause.code : 'BAD_MODEL';
    throw new XlmtError({ code, where: { file: path }, message: `cannot read the tokenizer: ${cause.problem}`, hint: 'give the model\'s tokenizer.json with --tokenizer FILE' }, { cause: e });
  }
}

/** What the tokenizer says of positions when the graph takes position_ids as an input: XLM-R style with <s>. */
function tokenizerPositions(tokenizer: TextTokenizer, pad: number): PositionConvention {
  return tokenizer.tokenToId('<s>') !== null ? { convention: 'roberta', paddingIdx: pad } : { convention: 'bert' };
}

const ints = (t: TensorData | undefined): number[] => (t ? Array.from(t.data as ArrayLike<number | bigint>, Number) : []);

/**
 * Which lookup counts positions and how: BERT's 0, 1, 2, … in every row, or RoBERTa's padding_idx + 1, + 2, … with
 * padding_idx at padding. A lookup whose indices are all 0 on the probe batch is the token-type table.
 */
function classify(g: OnnxGraph, m: MatchedEncoder, values: ReadonlyMap<string, TensorData>, b: Batch): Tables {
  if (m.implicitPositions) {
    const segment = m.lookups[0];
    return { position: m.implicitPositions, tokenType: segment ? segment.table : null, positions: { convention: 'bert' } };
  }
  const zero = (l: Lookup): boolean => ints(values.get(l.index)).every((v) => v === 0);
  const types = m.lookups.filter(zero);
  const position = m.lookups.filter((l) => !zero(l));
  if (position.length !== 1 || types.length > 1 || !position[0]) {
    throw unrecognized(g, 'the embeddings do not add one position table (and at most one token-type table) to the words', { received: `${m.lookups.length} other lookups, ${position.length} of them with varying indices` });
  }
  const ids = ints(values.get(position[0].index));
  const rows = ids.length / b.seq;
  const at = (r: number, t: number): number => ids[(rows === 1 ? 0 : r) * b.seq + t] as number;
  const bert = Array.from({ length: b.batch }, (_, r) => r).every((r) => Array.from({ length: b.seq }, (_, t) => at(r, t) === t).every(Boolean));
  if (bert) return { position: position[0].table, tokenType: types[0]?.table ?? null, positions: { convention: 'bert' } };
  const paddingIdx = at(0, 0) - 1;
  const roberta = rows === b.batch && Array.from({ length: b.batch * b.seq }, (_, i) => i).every((i) => {
    const r = Math.floor(i / b.seq);
    const t = i % b.seq;
    return b.mask[i] === 0 ? at(r, t) === paddingIdx : at(r, t) === paddingIdx + 1 + t;
  });
  if (!roberta) {
    throw unrecognized(g, 'position ids follow neither BERT\'s convention (0, 1, 2, …) nor RoBERTa\'s (padding_idx + 1, + 2, …, padding_idx at padding)', { node: position[0].node.name, received: `first row ${ids.slice(0, b.seq).join(', ')}` });
  }
  return { position: position[0].table, tokenType: types[0]?.table ?? null, positions: { convention: 'roberta', paddingIdx } };
}

export async function importOnnxEncoder(file: string, out: string, options: OnnxImportOptions): Promise<OnnxImportReport> {
  const output: OutputSpec = { command: 'import', path: out, inputs: inputsOf({ '--from': file, '--tokenizer': options.tokenizer }) };
  checkOutputDir(output);
  const g = await OnnxGraph.read(file);
  const m = matchEncoder(g);
  const tokenizer = loadTokenizer(options.tokenizer);
  const [vocab, hidden] = m.word.table.shape as [number, number];
  if (tokenizer.vocabSize > vocab) {
    throw new XlmtError({
      code: 'TOKENIZER_MISMATCH',
      where: { file: options.tokenizer },
      message: 'the tokenizer has more tokens than the encoder\'s word embeddings: not this model\'s tokenizer',
      expected: `at most ${vocab} tokens (the rows of the word embedding table in ${file})`,
      received: `${tokenizer.vocabSize} tokens`,
      hint: 'give the tokenizer.json that came with the ONNX file',
    });
  }
  const pad = tokenizer.special('pad', 'the import check').id;
  // Short enough for any position table (RoBERTa's first rows are reserved).
  const positionRows = Math.max(m.implicitPositions?.shape[0] ?? 0, ...m.lookups.map((l) => l.table.shape[0] ?? 0));
  const encoded = await tokenizer.encodeBatch(CHECK_TEXTS, { maxLength: Math.max(4, Math.min(32, positionRows - 4)) });
  const batch: Batch = { batch: encoded.batch, seq: encoded.seq, inputIds: encoded.inputIds, mask: encoded.attentionMask };
  const guess = tokenizerPositions(tokenizer, pad);
  const stageValues = checkpoints(m);
  const fetched = [...m.lookups.map((l) => l.index), ...stageValues.map((s) => s.value), ...(m.pooled ? [m.pooled] : [])];
  const reference = await runOnnx(g, m.inputIds, batch, guess, fetched);

  const warnings: string[] = [];
  const tables = classify(g, m, reference, batch);
  const heads = m.layers.map((l) => l.heads).find((h) => h !== null);
  if (!heads || hidden % heads !== 0) {
    throw unrecognized(g, 'the number of attention heads is not in the graph', { expected: 'Attention\'s num_heads, or a Reshape of the query to [batch, seq, heads, headDim] with constant heads and headDim' });
  }
  const mapped = mapEncoder(m, tables, heads);
  const roberta = tables.positions.convention === 'roberta';
  if (g.inputs.some((x) => /position/i.test(x.name))) warnings.push(`position ids are a graph input; their convention (${tables.positions.convention}) was taken from the tokenizer`);
  if (tables.positions.convention === 'roberta' && tables.positions.paddingIdx !== pad) {
    warnings.push(`the graph counts positions from padding index ${tables.positions.paddingIdx} but the tokenizer's pad id is ${pad}: pad_token_id is set to ${tables.positions.paddingIdx}`);
  }
  if (!tables.tokenType) warnings.push('the graph adds no token-type embedding (or folded row 0 into the positions): token_type_embeddings is one zero row');
  if (m.ignored.length > 0) warnings.push(`${m.ignored.length} dense layers after the encoder (a task head?) are not imported: ${m.ignored.join(', ')}`);
  const eps = epsilons(m);
  if (eps.length > 1) warnings.push(`the LayerNorms use different epsilons (${eps.join(', ')}); config.json holds the embeddings' ${m.embeddingNorm.eps}`);
  const quantization = quantizations(m, [m.word, ...m.lookups].flatMap((l) => (l.quantization ? [l.quantization] : [])));
  if (quantization.length > 0) warnings.push(`weights stored as ${quantization.join(', ')} were dequantized to float32: the checkpoint holds the quantized model's values, not the original float weights`);
  const config = hfModelConfig(mapped.encoder, {
    modelType: roberta ? 'xlm-roberta' : 'bert',
    padTokenId: tables.positions.convention === 'roberta' ? tables.positions.paddingIdx : pad,
  });

  // The check: xlmt's encoder on the imported weights against the file's own hidden states, stage by stage.
  const dynamic = m.layers.some((l) => [l.query, l.attentionOutput, l.intermediate, l.output].some((x) => x.dynamic));
  const tolerance = dynamic ? DYNAMIC_TOLERANCE : FP32_TOLERANCE;
  const ours = await runXlmt(mapped.encoder, mapped.params, batch, tables.positions);
  const check: StageCheck[] = stageValues.map((s, i) => ({
    stage: s.name,
    maxAbsDiff: maxAbsDiffOnTokens(ours.stages[i] ?? [], reference.get(s.value)?.data as Float32Array, batch.mask, hidden),
  }));
  if (m.pooled && ours.pooled) check.push({ stage: 'pooler', maxAbsDiff: maxAbsDiff(ours.pooled, reference.get(m.pooled)?.data as Float32Array) });
  const off = check.find((c) => !(c.maxAbsDiff <= tolerance));
  if (off) {
    throw new XlmtError({
      code: 'IMPORT_CHECK_FAILED',
      where: { file, ...(off.stage.startsWith('layer') ? { field: off.stage } : {}) },
      message: `the imported encoder's hidden states differ from the ONNX file's from ${off.stage} on; nothing was written`,
      expected: `a largest |Δ| of at most ${tolerance} over unpadded tokens at every stage`,
      received: check.map((c) => `${c.stage} ${c.maxAbsDiff.toExponential(2)}`).join(', '),
      hint: 'the graph computes something the BERT mapping misses there (another attention scaling, activation or norm placement): please report it with the ONNX file',
      details: { tolerance, stages: check.map((c) => ({ stage: c.stage, maxAbsDiff: String(c.maxAbsDiff) })) },
    });
  }

  const provenance = { from: file, quantization, positions: tables.positions, tolerance, check };
  await writeOutputDir(output, async (tmp) => {
    await saveHfModel(tmp, { config, params: mapped.params, metadata: { xlmt_import: JSON.stringify(provenance) } });
    await copyFile(options.tokenizer, join(tmp, 'tokenizer.json'));
  });
  return { config, quantization, tolerance, check, warnings };
}
