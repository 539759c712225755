// Model directories: saving a real classifier graph's parameters under transformers' names and loading them back
// exactly; half-precision Hub-style checkpoints; sharded indexes and their inconsistencies.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/builder/index.ts';
import {
  type HfModelConfig,
  hfModelConfig,
  loadHfModel,
  loadHfParams,
  readSafetensors,
  type SafeTensor,
  saveHfModel,
  writeSafetensors,
} from '../../src/checkpoint/index.ts';
import type { Graph } from '../../src/ir/graph.ts';
import { encoderConfig } from '../../src/models/config.ts';
import { encoder as encoderGraph } from '../../src/models/encoder.ts';
import { initParams } from '../../src/models/init.ts';
import { maskedLm } from '../../src/models/mlm.ts';
import { encoderInputs, multiTaskClassifier } from '../../src/models/multitask.ts';
import { craft, f32Bytes, tempDir, u16Bytes, writeBytes } from './helpers.ts';

const encoder = encoderConfig({ vocabSize: 11, hiddenSize: 4, numHiddenLayers: 2, numAttentionHeads: 2, intermediateSize: 8, maxPositionEmbeddings: 10 });

function classifierGraph(): Graph {
  const g = new GraphBuilder('classifier');
  multiTaskClassifier(g, encoder, [{ name: 'sentiment', type: 'multiclass', labels: ['a', 'b', 'c'] }], { training: false, pooling: 'cls', headStyle: 'linear' });
  return g.build();
}

function maskedLmGraph(): Graph {
  const g = new GraphBuilder('mlm');
  maskedLm(g, encoder, encoderGraph(g, encoder, encoderInputs(g), { training: false }));
  return g.build();
}

const config = (modelType: HfModelConfig['modelType']): HfModelConfig => hfModelConfig(encoder, { modelType, labels: ['a', 'b', 'c'] });

describe('saveHfModel and loadHfParams', () => {
  it('round-trips a multi-task classifier exactly, writing bert.-prefixed encoder names and unprefixed heads', async () => {
    const dir = await tempDir();
    const graph = classifierGraph();
    const params = initParams(graph, 7);
    expect(await saveHfModel(dir, { config: config('bert'), params, metadata: { producer: 'xlmt' } })).toEqual([join(dir, 'model.safetensors'), join(dir, 'config.json')]);
    expect((await readdir(dir)).sort()).toEqual(['config.json', 'model.safetensors']);

    const raw = await readSafetensors(join(dir, 'model.safetensors'));
    expect(raw.metadata).toEqual({ format: 'pt', producer: 'xlmt' });
    const expectedKeys = graph.params.map((p) => (p.name.startsWith('heads.') ? p.name : `bert.${p.name}`)).sort();
    expect([...raw.tensors.keys()].sort()).toEqual(expectedKeys);
    expect(expectedKeys).toContain('bert.encoder.layer.1.attention.self.query.weight');
    expect(expectedKeys).toContain('heads.sentiment.weight');
    const json = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(json['architectures']).toEqual(['BertModel']);
    expect(json['id2label']).toEqual({ '0': 'a', '1': 'b', '2': 'c' });

    const loaded = await loadHfParams(dir, graph.params);
    expect(loaded.config).toEqual({ ...config('bert'), architectures: ['BertModel'] });
    expect(loaded.report.missing).toEqual([]);
    expect(loaded.report.unexpected).toEqual([]);
    expect(loaded.report.loaded.every((l) => l.dtype === 'F32' && !l.copied)).toBe(true);
    expect([...loaded.params.keys()].sort()).toEqual([...params.keys()].sort());
    for (const [name, p] of params) {
      const back = loaded.params.get(name);
      expect(back?.shape).toEqual(p.shape);
      expect(Buffer.from(back?.data.buffer ?? new ArrayBuffer(0), back?.data.byteOffset, back?.data.byteLength).equals(Buffer.from(p.data.buffer))).toBe(true);
    }
  });

  it('writes identical bytes for identical parameters', async () => {
    const [a, b] = [await tempDir(), await tempDir()];
    const params = initParams(classifierGraph(), 3);
    await saveHfModel(a, { config: config('xlm-roberta'), params });
    await saveHfModel(b, { config: config('xlm-roberta'), params });
    expect((await readFile(join(a, 'model.safetensors'))).equals(await readFile(join(b, 'model.safetensors')))).toBe(true);
    expect(await readFile(join(a, 'config.json'), 'utf8')).toBe(await readFile(join(b, 'config.json'), 'utf8'));
  });

  it('uses the roberta. prefix for XLM-R and names the architecture from what is saved', async () => {
    const params = initParams(classifierGraph(), 1);
    const encoderOnly = new Map([...params].filter(([name]) => !name.startsWith('heads.')));
    const single = new Map(encoderOnly);
    single.set('classifier.weight', { name: 'classifier.weight', shape: [3, 4], data: new Float32Array(12) });
    single.set('classifier.bias', { name: 'classifier.bias', shape: [3], data: new Float32Array(3) });
    const saved = async (p: typeof params): Promise<{ keys: string[]; architectures: readonly string[] }> => {
      const dir = await tempDir();
      await saveHfModel(dir, { config: config('xlm-roberta'), params: p });
      const model = await loadHfModel(dir);
      return { keys: [...model.tensors.keys()], architectures: model.config.architectures };
    };
    const multi = await saved(params);
    expect(multi.keys).toContain('roberta.embeddings.word_embeddings.weight');
    expect(multi.keys.filter((k) => !k.startsWith('roberta.')).sort()).toEqual(['heads.sentiment.bias', 'heads.sentiment.weight']);
    expect(multi.architectures).toEqual(['XLMRobertaModel']);
    expect((await saved(encoderOnly)).architectures).toEqual(['XLMRobertaModel']);
    const withClassifier = await saved(single);
    expect(withClassifier.keys.filter((k) => !k.startsWith('roberta.')).sort()).toEqual(['classifier.bias', 'classifier.weight']);
    expect(withClassifier.architectures).toEqual(['XLMRobertaForSequenceClassification']);
  });

  it("saves an XLM-R masked-LM head under lm_head names and maps it back onto the graph's cls.predictions", async () => {
    const dir = await tempDir();
    const graph = maskedLmGraph();
    const params = initParams(graph, 5);
    await saveHfModel(dir, { config: config('xlm-roberta'), params });
    const model = await loadHfModel(dir);
    expect(model.config.architectures).toEqual(['XLMRobertaForMaskedLM']);
    expect([...model.tensors.keys()].filter((k) => !k.startsWith('roberta.')).sort()).toEqual([
      'lm_head.bias',
      'lm_head.dense.bias',
      'lm_head.dense.weight',
      'lm_head.layer_norm.bias',
      'lm_head.layer_norm.weight',
    ]);
    const loaded = await loadHfParams(dir, graph.params);
    expect(loaded.report.unexpected).toEqual([]);
    expect(loaded.report.loaded.find((l) => l.name === 'cls.predictions.transform.LayerNorm.weight')?.key).toBe('lm_head.layer_norm.weight');
    for (const [name, p] of params) expect(Array.from(loaded.params.get(name)?.data ?? [])).toEqual(Array.from(p.data));

    const bertDir = await tempDir();
    await saveHfModel(bertDir, { config: config('bert'), params });
    const bert = await loadHfModel(bertDir);
    expect(bert.config.architectures).toEqual(['BertForMaskedLM']);
    expect([...bert.tensors.keys()].filter((k) => !k.startsWith('bert.')).sort()).toEqual([
      'cls.predictions.bias',
      'cls.predictions.transform.LayerNorm.bias',
      'cls.predictions.transform.LayerNorm.weight',
      'cls.predictions.transform.dense.bias',
      'cls.predictions.transform.dense.weight',
    ]);
  });

  it('refuses a parameter whose data does not match its shape', async () => {
    const dir = await tempDir();
    const params = new Map([['heads.t.bias', { name: 'heads.t.bias', shape: [3], data: new Float32Array(2) }]]);
    await expect(saveHfModel(dir, { config: config('bert'), params })).rejects.toThrow(
      `${dir}: tensor "heads.t.bias": data length does not match shape [3] (expected 3 values; received 2 values)`,
    );
  });
});

describe('loadHfModel', () => {
  /** A Hub-style half-precision BERT masked-LM checkpoint: TF-era LayerNorm names, MLM head, position_ids buffer. */
  async function hubStyleDir(): Promise<string> {
    const dir = await tempDir();
    const json = {
      model_type: 'bert',
      architectures: ['BertForMaskedLM'],
      torch_dtype: 'float16',
      vocab_size: 11,
      hidden_size: 4,
      num_hidden_layers: 2,
      num_attention_heads: 2,
      intermediate_size: 8,
      max_position_embeddings: 10,
      type_vocab_size: 2,
      layer_norm_eps: 1e-12,
      hidden_dropout_prob: 0.1,
      attention_probs_dropout_prob: 0.1,
      pad_token_id: 0,
    };
    await writeFile(join(dir, 'config.json'), JSON.stringify(json));
    const graph = classifierGraph();
    const tensors: [string, SafeTensor][] = [];
    for (const p of graph.params) {
      if (p.name.startsWith('heads.')) continue;
      const shape = p.shape as number[];
      const count = shape.reduce((a, b) => a * b, 1);
      // Every value is 0.333251953125 (half 0x3555), so the conversion is checked on every tensor.
      const key = `bert.${p.name}`.replace(/LayerNorm\.weight$/, 'LayerNorm.gamma').replace(/LayerNorm\.bias$/, 'LayerNorm.beta');
      tensors.push([key, { dtype: 'F16', shape, bytes: Uint8Array.from(u16Bytes(new Array<number>(count).fill(0x3555))) }]);
    }
    tensors.push(['bert.embeddings.position_ids', { dtype: 'I64', shape: [1, 10], bytes: new Uint8Array(80) }]);
    tensors.push(['cls.predictions.bias', { dtype: 'F16', shape: [11], bytes: new Uint8Array(22) }]);
    await writeSafetensors(join(dir, 'model.safetensors'), tensors, { format: 'pt' });
    return dir;
  }

  it('loads a half-precision Hub checkpoint into the graph, converting and reporting what is left', async () => {
    const dir = await hubStyleDir();
    const graph = classifierGraph();
    const { config: loadedConfig, params, report, warnings } = await loadHfParams(dir, graph.params, { allowMissing: [/^heads\./] });
    expect(warnings).toEqual([]);
    expect(loadedConfig.encoder).toEqual(encoder);
    expect(loadedConfig.extra).toEqual({});
    expect(report.missing).toEqual(['heads.sentiment.weight', 'heads.sentiment.bias']);
    expect(report.unexpected.map((u) => [u.key, u.kind])).toEqual([
      ['bert.embeddings.position_ids', 'buffer'],
      ['cls.predictions.bias', 'pretraining-head'],
    ]);
    expect(report.loaded.length).toBe(graph.params.length - 2);
    expect(report.loaded.find((l) => l.name === 'encoder.layer.0.output.LayerNorm.weight')?.key).toBe('bert.encoder.layer.0.output.LayerNorm.gamma');
    for (const p of params.values()) expect(new Set(p.data)).toEqual(new Set([0.333251953125]));
  });

  it('refuses the same checkpoint when the head may not start fresh', async () => {
    const dir = await hubStyleDir();
    await expect(loadHfParams(dir, classifierGraph().params)).rejects.toThrow(
      `${dir}: checkpoint does not fit the graph (2 problems):\n  heads.sentiment.weight: missing from the checkpoint\n  heads.sentiment.bias: missing from the checkpoint`,
    );
  });

  it('says what is missing from a directory without weights', async () => {
    const dir = await tempDir();
    await expect(loadHfModel(dir)).rejects.toMatchObject({ code: 'FILE_NOT_FOUND', message: expect.stringContaining(`${join(dir, 'config.json')}: cannot read: ENOENT`) });
    await writeFile(join(dir, 'config.json'), JSON.stringify({ model_type: 'bert' }));
    await expect(loadHfModel(dir)).rejects.toMatchObject({ code: 'FILE_NOT_FOUND', message: `${dir}: no model.safetensors or model.safetensors.index.json in the directory. Name a Hugging Face model directory: config.json with model.safetensors or a sharded model.safetensors.index.json` });
    await writeFile(join(dir, 'pytorch_model.bin'), '');
    await expect(loadHfModel(dir)).rejects.toThrow('It has pytorch_model.bin: convert it to safetensors first');
  });
});

describe('sharded checkpoints', () => {
  const one = (v: number): SafeTensor => ({ dtype: 'F32', shape: [1], bytes: Uint8Array.from(f32Bytes([v])) });

  async function shardedDir(weightMap: Record<string, string>, shards: Record<string, [string, SafeTensor][]>): Promise<string> {
    const dir = await tempDir();
    await writeFile(join(dir, 'config.json'), JSON.stringify({ model_type: 'xlm-roberta', hidden_size: 4, num_attention_heads: 2 }));
    for (const [file, tensors] of Object.entries(shards)) await writeSafetensors(join(dir, file), tensors, { format: 'pt' });
    await writeFile(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: 12 }, weight_map: weightMap }));
    return dir;
  }

  const SHARDS = {
    'model-00001-of-00002.safetensors': [['roberta.a', one(1)], ['roberta.b', one(2)]] as [string, SafeTensor][],
    'model-00002-of-00002.safetensors': [['classifier.weight', one(3)]] as [string, SafeTensor][],
  };
  const MAP = { 'roberta.a': 'model-00001-of-00002.safetensors', 'roberta.b': 'model-00001-of-00002.safetensors', 'classifier.weight': 'model-00002-of-00002.safetensors' };

  it('reads every shard the index lists', async () => {
    const dir = await shardedDir(MAP, SHARDS);
    const model = await loadHfModel(dir);
    expect(model.files).toEqual([join(dir, 'model-00001-of-00002.safetensors'), join(dir, 'model-00002-of-00002.safetensors')]);
    expect(model.metadata).toEqual({ format: 'pt' });
    expect([...model.tensors.keys()]).toEqual(['roberta.a', 'roberta.b', 'classifier.weight']);
    const loaded = await loadHfParams(dir, [{ name: 'a', shape: [1] }, { name: 'b', shape: [1] }, { name: 'classifier.weight', shape: [1] }]);
    expect([...loaded.params].map(([name, p]) => [name, p.data[0]])).toEqual([
      ['a', 1],
      ['b', 2],
      ['classifier.weight', 3],
    ]);
  });

  it('prefers model.safetensors when both layouts are present', async () => {
    const dir = await shardedDir(MAP, SHARDS);
    await writeSafetensors(join(dir, 'model.safetensors'), [['roberta.a', one(9)]]);
    expect([...(await loadHfModel(dir)).tensors.keys()]).toEqual(['roberta.a']);
  });

  it('refuses a tensor the index places in a shard that lacks it', async () => {
    const dir = await shardedDir({ ...MAP, 'roberta.c': 'model-00002-of-00002.safetensors' }, SHARDS);
    await expect(loadHfModel(dir)).rejects.toThrow(
      `${join(dir, 'model.safetensors.index.json')}: tensor "roberta.c": listed in shard model-00002-of-00002.safetensors, which does not contain it`,
    );
  });

  it('refuses a shard tensor the index does not list, or lists elsewhere', async () => {
    const { 'roberta.b': _, ...withoutB } = MAP;
    const unlisted = await shardedDir(withoutB, SHARDS);
    await expect(loadHfModel(unlisted)).rejects.toThrow(`${join(unlisted, 'model-00001-of-00002.safetensors')}: tensor "roberta.b": not listed in the index`);
    const twice = await shardedDir(MAP, { ...SHARDS, 'model-00002-of-00002.safetensors': [['classifier.weight', one(3)], ['roberta.a', one(1)]] });
    await expect(loadHfModel(twice)).rejects.toThrow(
      `${join(twice, 'model-00002-of-00002.safetensors')}: tensor "roberta.a": the index places it in model-00001-of-00002.safetensors`,
    );
  });

  it('refuses shard names outside the directory and malformed indexes', async () => {
    const dir = await shardedDir({ 'roberta.a': '../secret.safetensors' }, {});
    const index = join(dir, 'model.safetensors.index.json');
    await expect(loadHfModel(dir)).rejects.toThrow(`${index}: weight_map.roberta.a: shard must be a file name in the same directory (received "../secret.safetensors")`);
    await writeFile(index, JSON.stringify({ metadata: {} }));
    await expect(loadHfModel(dir)).rejects.toThrow(`${index}: weight_map: wrong type (expected record; received nothing)`);
    await writeFile(index, '{');
    await expect(loadHfModel(dir)).rejects.toMatchObject({ code: 'BAD_INDEX', message: expect.stringContaining(`${index}: cannot read the index: `) });
  });

  it('passes shard header errors through with the shard named', async () => {
    const dir = await shardedDir({ 'roberta.a': 'model-00001-of-00001.safetensors' }, {});
    const shard = await writeBytes(dir, 'model-00001-of-00001.safetensors', craft('{"roberta.a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}', [0, 0, 0, 0]));
    await expect(loadHfModel(dir)).rejects.toThrow(`${shard}: tensor "roberta.a": byte length does not match shape [2] × F32 (4 bytes)`);
  });
});
