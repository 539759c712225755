// xlmt's side of the transformers parity check: a model directory's logits, every layer's hidden states and (BERT
// head) pooled output for a batch, through the graphs xlmt itself runs. Imported by test/checkpoint/transformers-*
// and run by transformers_parity.py and pruned_heads_parity.py as a command:
//   node --import tsx tools/reference/xlmt-forward.ts --model DIR --texts texts.json [--ids ids.json] > out.json
// texts.json is a JSON array of strings; ids.json ({input_ids, attention_mask}, [batch][seq]) skips tokenizing.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { GraphBuilder } from '../../src/builder/builder.ts';
import { positionIdsInGraph, referenceInferenceGraph } from '../../src/export/graph.ts';
import { LOGITS } from '../../src/infer/contract.ts';
import type { Value } from '../../src/ir/graph.ts';
import { encoderStates, linear } from '../../src/models/encoder.ts';
import { Session } from '../../src/runtime/session.ts';
import { loadModelDir, type TrainedModel } from '../../src/train/model-dir.ts';

/** Row-major [batch, seq] ids and 0/1 mask, right-padded. */
export interface Batch {
  readonly batch: number;
  readonly seq: number;
  readonly inputIds: BigInt64Array;
  readonly attentionMask: BigInt64Array;
}

export interface Forward {
  /** [batch, labels] of a single-task model, as its inference graph's `logits` output; null with several tasks. */
  readonly logits: Float32Array | null;
  /** [batch, seq, hidden]: the encoder's last layer, padded positions included. */
  readonly hidden: Float32Array;
  /** transformers' hidden_states: the embeddings' output, then each layer's, [batch, seq, hidden] each. */
  readonly hiddenStates: readonly Float32Array[];
  /** [batch, hidden]: BERT's pooler (dense + tanh over the first token), for the `bert` head style; else null. */
  readonly pooled: Float32Array | null;
}

/**
 * The encoder alone (the parameters are the model's, by name), with the pooler when the model has one. Outputs
 * `hidden_states.0` (embeddings) … `hidden_states.L` (the last layer), and `pooled`.
 */
function encoderGraph(model: TrainedModel): ReturnType<GraphBuilder['build']> {
  const c = model.hf.encoder;
  const g = new GraphBuilder('parity-encoder');
  const { op } = g;
  const inputIds = g.input('input_ids', 'int64', ['batch', 'seq']);
  const mask = g.input('attention_mask', 'int64', ['batch', 'seq']);
  const { hiddenStates } = encoderStates(g, c, {
    inputIds,
    positionIds: positionIdsInGraph(g, inputIds, mask, model.meta.positions),
    tokenTypeIds: op.Mul(inputIds, 0),
    attentionMask: op.Cast(mask, 'float32'),
  }, { training: false }); // [batch*seq, hidden] each
  const shape = op.Concat([op.Shape(inputIds), g.ints([c.hiddenSize])], 0);
  const perSequence = hiddenStates.map((h, i) => g.output(`hidden_states.${i}`, op.Reshape(h, shape))); // [batch, seq, hidden]
  if (model.meta.headStyle === 'bert') {
    const last = perSequence[perSequence.length - 1] as Value;
    const first: Value = op.Squeeze(op.Slice(last, [0], [1], [1]), [1]); // [batch, hidden]
    g.output('pooled', op.Tanh(g.scope('pooler', () => linear(g, 'dense', first, c.hiddenSize, c.hiddenSize))));
  }
  return g.build();
}

export async function xlmtForward(model: TrainedModel, batch: Batch): Promise<Forward> {
  const feeds = {
    input_ids: { dtype: 'int64', shape: [batch.batch, batch.seq], data: batch.inputIds },
    attention_mask: { dtype: 'int64', shape: [batch.batch, batch.seq], data: batch.attentionMask },
  } as const;
  const run = async (graph: ReturnType<GraphBuilder['build']>): Promise<Record<string, { data: unknown }>> => {
    const session = await Session.create(graph, { threads: 1 });
    try {
      return await session.run(feeds, model.params);
    } finally {
      await session.release();
    }
  };
  const encoded = await run(encoderGraph(model));
  const single = model.schema.tasks.length === 1;
  const classified = single
    ? await run(referenceInferenceGraph(model.hf.encoder, model.schema.tasks, { pooling: model.meta.pooling, headStyle: model.meta.headStyle, positions: model.meta.positions }))
    : {};
  const hiddenStates = Array.from({ length: model.hf.encoder.numHiddenLayers + 1 }, (_, i) => encoded[`hidden_states.${i}`]?.data as Float32Array);
  return {
    logits: (classified[LOGITS]?.data as Float32Array | undefined) ?? null,
    hidden: hiddenStates[hiddenStates.length - 1] as Float32Array,
    hiddenStates,
    pooled: (encoded['pooled']?.data as Float32Array | undefined) ?? null,
  };
}

/** The model's own tokenization of `texts`: right-padded to the longest, truncated to its max length. */
export async function encodeTexts(model: TrainedModel, texts: readonly string[]): Promise<Batch> {
  const encoded = await model.tokenizer.encodeBatch(texts, { maxLength: model.meta.maxLength });
  return { batch: encoded.batch, seq: encoded.seq, inputIds: encoded.inputIds, attentionMask: BigInt64Array.from(encoded.attentionMask, (m) => BigInt(m)) };
}

export function batchOf(inputIds: readonly (readonly number[])[], attentionMask: readonly (readonly number[])[]): Batch {
  const seq = inputIds[0]?.length ?? 0;
  return {
    batch: inputIds.length,
    seq,
    inputIds: BigInt64Array.from(inputIds.flat(), (v) => BigInt(v)),
    attentionMask: BigInt64Array.from(attentionMask.flat(), (v) => BigInt(v)),
  };
}

function rows(data: ArrayLike<number | bigint>, ...shape: number[]): unknown {
  const flat = Array.from(data, Number);
  const nest = (offset: number, dims: number[]): unknown => {
    const [n, ...rest] = dims;
    if (n === undefined) return flat[offset];
    const size = rest.reduce((a, b) => a * b, 1);
    return Array.from({ length: n }, (_, i) => nest(offset + i * size, rest));
  };
  return nest(0, shape);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { model: { type: 'string' }, texts: { type: 'string' }, ids: { type: 'string' } } });
  if (!values.model || (!values.texts && !values.ids)) throw new Error('usage: xlmt-forward.ts --model DIR (--texts FILE | --ids FILE)');
  const model = await loadModelDir(values.model);
  let batch: Batch;
  if (values.ids) {
    const given = JSON.parse(readFileSync(values.ids, 'utf8')) as { input_ids: number[][]; attention_mask: number[][] };
    batch = batchOf(given.input_ids, given.attention_mask);
  } else {
    batch = await encodeTexts(model, JSON.parse(readFileSync(values.texts as string, 'utf8')) as string[]);
  }
  const out = await xlmtForward(model, batch);
  const hidden = model.hf.encoder.hiddenSize;
  const labels = model.schema.tasks[0]?.labels.length ?? 0;
  process.stdout.write(`${JSON.stringify({
    input_ids: rows(batch.inputIds, batch.batch, batch.seq),
    attention_mask: rows(batch.attentionMask, batch.batch, batch.seq),
    logits: out.logits ? rows(out.logits, batch.batch, labels) : null,
    last_hidden_state: rows(out.hidden, batch.batch, batch.seq, hidden),
    hidden_states: out.hiddenStates.map((h) => rows(h, batch.batch, batch.seq, hidden)),
    pooler_output: out.pooled ? rows(out.pooled, batch.batch, hidden) : null,
  })}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
