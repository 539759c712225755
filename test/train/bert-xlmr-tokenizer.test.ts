// A BERT-architecture checkpoint with an XLM-R tokenizer, multilingual-e5-small's layout (examples/xm-bench-pretrained.sh):
// batches pad with the tokenizer's <pad> whatever config.json's pad_token_id says, positions count from 0, and a text
// scores the same alone as padded beside a longer one.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/builder/builder.ts';
import { hfModelConfig, saveHfModel } from '../../src/checkpoint/index.ts';
import { paramStore } from '../../src/ir/params.ts';
import { encoderConfig } from '../../src/models/config.ts';
import { encoder } from '../../src/models/encoder.ts';
import { initParams } from '../../src/models/init.ts';
import { encoderInputs } from '../../src/models/multitask.ts';
import { parseTrainConfig } from '../../src/train/config.ts';
import { encodeExamples } from '../../src/train/examples.ts';
import { tokenFeeds } from '../../src/train/feeds.ts';
import { Predictor } from '../../src/train/predict.ts';
import { setupRun } from '../../src/train/setup.ts';
import { xlmrJson } from '../tokenize/fixtures.ts';

/** A 1-layer BERT encoder saved as transformers does, config.json saying pad_token_id 0 as upstream E5's does. */
async function bertWithXlmrTokenizer(): Promise<{ dir: string; train: string; tasks: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'xlmt-bert-xlmr-'));
  const model = join(dir, 'model');
  const config = encoderConfig({ vocabSize: 16, hiddenSize: 8, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 16, maxPositionEmbeddings: 32 });
  const g = new GraphBuilder('encoder');
  g.output('hidden', encoder(g, config, encoderInputs(g), { training: false }));
  const params = paramStore([...initParams(g.build(), 3).values()]);
  await saveHfModel(model, { config: hfModelConfig(config, { modelType: 'bert', padTokenId: 0, extra: { tokenizer_class: 'XLMRobertaTokenizer' } }), params });
  writeFileSync(join(model, 'tokenizer.json'), xlmrJson());
  const train = join(dir, 'train.jsonl');
  writeFileSync(train, ['hello', 'hello world hello world', 'world'].map((text, i) => JSON.stringify({ text, lang: 'en', labels: { mood: i % 2 === 0 ? 'a' : 'b' } })).join('\n'));
  const tasks = join(dir, 'tasks.json');
  writeFileSync(tasks, JSON.stringify({ mood: { type: 'multiclass', labels: ['a', 'b'] } }));
  return { dir: model, train, tasks };
}

describe('a BERT checkpoint with an XLM-R tokenizer', () => {
  it('pads with the tokenizer\'s <pad>, counts positions from 0 and scores a text alike alone or padded', async () => {
    const { dir, train, tasks } = await bertWithXlmrTokenizer();
    const config = parseTrainConfig({ train, tasks, init: dir, out: join(dir, '..', 'run'), pooling: 'mean', maxLength: 16 }, 'test');
    const setup = await setupRun(config, () => {});
    expect(setup.hf.padTokenId).toBe(0);
    expect(setup.padId).toBe(1);
    expect(setup.positions).toEqual({ convention: 'bert' });

    const encoded = await encodeExamples(setup.tokenizer, setup.train, config.maxLength);
    const [short, long] = [0, 1].map((i) => (encoded.ids[i] as Int32Array).length) as [number, number];
    expect(short).toBeLessThan(long);
    const feeds = tokenFeeds(encoded, [0, 1], { padId: setup.padId, positions: setup.positions });
    expect(Array.from(feeds.input_ids?.data as BigInt64Array).slice(short, long).map(Number)).toEqual(Array(long - short).fill(1));
    expect(Array.from(feeds.position_ids?.data as BigInt64Array).slice(0, long).map(Number)).toEqual([...Array(long).keys()]);

    const predictor = await Predictor.create(setup.hf.encoder, setup.schema.tasks, { padId: setup.padId, positions: setup.positions, pooling: 'mean', headStyle: 'linear', threads: 1, batchSize: 8 });
    const alone = (await predictor.predict(encoded, [0], setup.params)).get('mood') as Float32Array;
    const padded = (await predictor.predict(encoded, [0, 1], setup.params)).get('mood') as Float32Array;
    await predictor.release();
    Array.from(alone).forEach((p, i) => expect(padded[i]).toBeCloseTo(p, 6));
  });
});
