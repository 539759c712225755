// config.json: parsing real Hub configs, every refusal naming file and field, defaults, writing, presets.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CheckpointError,
  firstPositionId,
  formatHfConfig,
  hfModelConfig,
  maxSequenceLength,
  parseHfConfig,
  PRESET_NAMES,
  preset,
  readHfConfig,
  writeHfConfig,
} from '../../src/checkpoint/index.ts';
import { encoderConfig } from '../../src/models/config.ts';
import { tempDir } from './helpers.ts';

// FacebookAI/xlm-roberta-base's config.json as transformers 4.x saves it.
const XLMR_BASE = {
  architectures: ['XLMRobertaForMaskedLM'],
  attention_probs_dropout_prob: 0.1,
  bos_token_id: 0,
  eos_token_id: 2,
  hidden_act: 'gelu',
  hidden_dropout_prob: 0.1,
  hidden_size: 768,
  initializer_range: 0.02,
  intermediate_size: 3072,
  layer_norm_eps: 1e-5,
  max_position_embeddings: 514,
  model_type: 'xlm-roberta',
  num_attention_heads: 12,
  num_hidden_layers: 12,
  output_past: true,
  pad_token_id: 1,
  position_embedding_type: 'absolute',
  transformers_version: '4.17.0.dev0',
  type_vocab_size: 1,
  use_cache: true,
  vocab_size: 250002,
};

// A fine-tuned microsoft/Multilingual-MiniLM-L12-H384 classifier.
const MINILM_CLASSIFIER = {
  _name_or_path: 'microsoft/Multilingual-MiniLM-L12-H384',
  architectures: ['BertForSequenceClassification'],
  attention_probs_dropout_prob: 0.1,
  classifier_dropout: null,
  hidden_act: 'gelu',
  hidden_dropout_prob: 0.1,
  hidden_size: 384,
  id2label: { '0': 'negative', '1': 'neutral', '2': 'positive' },
  initializer_range: 0.02,
  intermediate_size: 1536,
  label2id: { negative: 0, neutral: 1, positive: 2 },
  layer_norm_eps: 1e-12,
  max_position_embeddings: 512,
  model_type: 'bert',
  num_attention_heads: 12,
  num_hidden_layers: 12,
  pad_token_id: 0,
  position_embedding_type: 'absolute',
  problem_type: 'single_label_classification',
  tokenizer_class: 'XLMRobertaTokenizer',
  torch_dtype: 'float32',
  transformers_version: '4.40.2',
  type_vocab_size: 2,
  use_cache: true,
  vocab_size: 250037,
};

function failure(json: unknown): string {
  try {
    parseHfConfig(json, '/m/config.json');
  } catch (e) {
    if (e instanceof CheckpointError && e.code === 'BAD_CONFIG') return e.message;
    throw e;
  }
  throw new Error('the config was accepted');
}

describe('parseHfConfig', () => {
  it('reads XLM-R base into an encoder config, the RoBERTa position convention and the untouched extras', () => {
    const { config, warnings } = parseHfConfig(XLMR_BASE, 'config.json');
    expect(warnings).toEqual([]);
    expect(config).toEqual({
      modelType: 'xlm-roberta',
      encoder: {
        vocabSize: 250002,
        hiddenSize: 768,
        numHiddenLayers: 12,
        numAttentionHeads: 12,
        intermediateSize: 3072,
        maxPositionEmbeddings: 514,
        typeVocabSize: 1,
        layerNormEps: 1e-5,
        hiddenDropoutProb: 0.1,
        attentionProbsDropoutProb: 0.1,
      },
      padTokenId: 1,
      positions: 'roberta',
      architectures: ['XLMRobertaForMaskedLM'],
      labels: null,
      extra: { bos_token_id: 0, eos_token_id: 2, initializer_range: 0.02, output_past: true, use_cache: true },
    });
    expect(firstPositionId(config)).toBe(2);
    expect(maxSequenceLength(config)).toBe(512);
  });

  it('reads labels from id2label and keeps tokenizer_class, dropping producer fields', () => {
    const { config, warnings } = parseHfConfig(MINILM_CLASSIFIER, 'config.json');
    expect(warnings).toEqual([]);
    expect(config.labels).toEqual(['negative', 'neutral', 'positive']);
    expect(config.positions).toBe('bert');
    expect(firstPositionId(config)).toBe(0);
    expect(maxSequenceLength(config)).toBe(512);
    expect(config.extra).toEqual({
      _name_or_path: 'microsoft/Multilingual-MiniLM-L12-H384',
      classifier_dropout: null,
      initializer_range: 0.02,
      problem_type: 'single_label_classification',
      tokenizer_class: 'XLMRobertaTokenizer',
      use_cache: true,
    });
  });

  it("fills absent fields with transformers' defaults and says so", () => {
    const { config, warnings } = parseHfConfig({ model_type: 'roberta', hidden_size: 64, num_attention_heads: 4 }, 'config.json');
    expect(config.encoder).toEqual(encoderConfig({ hiddenSize: 64, numAttentionHeads: 4 }));
    expect(config.padTokenId).toBe(1);
    expect(warnings).toEqual([
      `field "vocab_size" is absent; using transformers' default 30522`,
      `field "num_hidden_layers" is absent; using transformers' default 12`,
      `field "intermediate_size" is absent; using transformers' default 3072`,
      `field "max_position_embeddings" is absent; using transformers' default 512`,
      `field "type_vocab_size" is absent; using transformers' default 2`,
      `field "layer_norm_eps" is absent; using transformers' default 1e-12`,
      `field "hidden_dropout_prob" is absent; using transformers' default 0.1`,
      `field "attention_probs_dropout_prob" is absent; using transformers' default 0.1`,
      `field "pad_token_id" is absent; using transformers' default 1`,
    ]);
  });

  it('warns about a label2id that does not invert id2label, and generates labels from num_labels', () => {
    const inconsistent = parseHfConfig({ ...MINILM_CLASSIFIER, label2id: { LABEL_0: 0, LABEL_1: 1, LABEL_2: 2 } }, 'c');
    expect(inconsistent.config.labels).toEqual(['negative', 'neutral', 'positive']);
    expect(inconsistent.warnings).toEqual(['field "label2id" is not the inverse of id2label; using id2label']);
    const { id2label: _a, label2id: _b, ...unlabeled } = MINILM_CLASSIFIER;
    expect(parseHfConfig({ ...unlabeled, num_labels: 2 }, 'c').config.labels).toEqual(['LABEL_0', 'LABEL_1']);
  });

  it.each([
    [
      'an unsupported model type',
      { ...XLMR_BASE, model_type: 'distilbert' },
      'model_type: unsupported value (expected one of "bert", "roberta", "xlm-roberta"; received "distilbert"). Only BERT-architecture encoders load: bert, roberta and xlm-roberta checkpoints',
    ],
    [
      'no model type',
      { hidden_size: 768 },
      'model_type: unsupported value (expected one of "bert", "roberta", "xlm-roberta"; received nothing). Only BERT-architecture encoders load: bert, roberta and xlm-roberta checkpoints',
    ],
    [
      'an activation other than exact GELU',
      { ...XLMR_BASE, hidden_act: 'gelu_new' },
      'hidden_act: unsupported value (expected one of "gelu"; received "gelu_new"). The encoder implements exact GELU ("gelu") only; a model trained with another activation would load but compute something else',
    ],
    [
      'relative position embeddings',
      { ...XLMR_BASE, position_embedding_type: 'relative_key' },
      'position_embedding_type: unsupported value (expected one of "absolute"; received "relative_key"). Relative position embeddings are not implemented',
    ],
    ['a size given as a string', { ...XLMR_BASE, hidden_size: '768' }, 'hidden_size: wrong type (expected number; received "768")'],
    ['a zero layer count', { ...XLMR_BASE, num_hidden_layers: 0 }, 'num_hidden_layers: value too small (expected >= 1; received 0)'],
    ['a dropout of 1', { ...XLMR_BASE, hidden_dropout_prob: 1 }, 'hidden_dropout_prob: value too large (expected < 1; received 1)'],
    [
      'a hidden size the heads do not divide',
      { ...XLMR_BASE, hidden_size: 770 },
      'hidden_size: not divisible by num_attention_heads 12 (expected a multiple of 12; received 770)',
    ],
    [
      'label ids with a gap',
      { ...MINILM_CLASSIFIER, id2label: { '0': 'a', '2': 'b' } },
      'id2label.2: label ids must be the integers 0..n-1 (expected an id in 0..1; received "2")',
    ],
    [
      'a label id that is not a decimal integer',
      { ...MINILM_CLASSIFIER, id2label: { '0': 'a', '01': 'b' } },
      'id2label.01: label ids must be the integers 0..n-1 (expected an id in 0..1; received "01")',
    ],
    ['a null RoBERTa pad token', { ...XLMR_BASE, pad_token_id: null }, 'pad_token_id: null, but xlm-roberta position ids are counted from it (expected a token id)'],
    [
      'a position table too small for the RoBERTa offset',
      { ...XLMR_BASE, max_position_embeddings: 2 },
      'max_position_embeddings: leaves no position for tokens: xlm-roberta positions start at pad_token_id + 1 = 2 (expected > 2; received 2)',
    ],
    ['an array', [XLMR_BASE], 'config is not a JSON object'],
  ])('refuses %s', (_, json, message) => {
    expect(failure(json)).toBe(`/m/config.json: ${message}`);
  });
});

describe('readHfConfig', () => {
  it('names the file when it is missing or not JSON', async () => {
    const dir = await tempDir();
    const path = join(dir, 'config.json');
    await expect(readHfConfig(path)).rejects.toMatchObject({ code: 'FILE_NOT_FOUND', message: expect.stringContaining(`${path}: cannot read: ENOENT`) });
    await writeFile(path, '{"model_type": "bert",');
    await expect(readHfConfig(path)).rejects.toMatchObject({ code: 'BAD_CONFIG', message: expect.stringContaining(`${path}: not valid JSON: `) });
  });
});

describe('formatHfConfig', () => {
  const tiny = hfModelConfig(
    encoderConfig({ vocabSize: 10, hiddenSize: 4, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 8, maxPositionEmbeddings: 16, layerNormEps: 1e-5 }),
    { modelType: 'bert', labels: ['neg', 'pos'], architectures: ['BertForSequenceClassification'], extra: { tokenizer_class: 'XLMRobertaTokenizer' } },
  );

  it('writes sorted keys, two-space indents and a final newline, as save_pretrained does', () => {
    expect(formatHfConfig(tiny)).toBe(
      `{
  "architectures": [
    "BertForSequenceClassification"
  ],
  "attention_probs_dropout_prob": 0.1,
  "hidden_act": "gelu",
  "hidden_dropout_prob": 0.1,
  "hidden_size": 4,
  "id2label": {
    "0": "neg",
    "1": "pos"
  },
  "intermediate_size": 8,
  "label2id": {
    "neg": 0,
    "pos": 1
  },
  "layer_norm_eps": 0.00001,
  "max_position_embeddings": 16,
  "model_type": "bert",
  "num_attention_heads": 2,
  "num_hidden_layers": 1,
  "pad_token_id": 0,
  "position_embedding_type": "absolute",
  "tokenizer_class": "XLMRobertaTokenizer",
  "type_vocab_size": 2,
  "vocab_size": 10
}
`,
    );
  });

  it('round-trips through a file exactly, Hub configs included', async () => {
    const dir = await tempDir();
    const path = join(dir, 'config.json');
    for (const config of [tiny, parseHfConfig(XLMR_BASE, 'x').config, parseHfConfig(MINILM_CLASSIFIER, 'm').config]) {
      await writeHfConfig(path, config);
      expect(await readHfConfig(path)).toEqual({ config, warnings: [] });
    }
  });
});

describe('presets', () => {
  const shape = (name: (typeof PRESET_NAMES)[number]): unknown[] => {
    const { config } = preset(name);
    const e = config.encoder;
    return [
      config.modelType,
      e.numHiddenLayers,
      e.hiddenSize,
      e.numAttentionHeads,
      e.intermediateSize,
      e.vocabSize,
      e.maxPositionEmbeddings,
      e.typeVocabSize,
      e.layerNormEps,
      config.padTokenId,
      config.positions,
    ];
  };

  it.each([
    ['xlm-roberta-base', ['xlm-roberta', 12, 768, 12, 3072, 250002, 514, 1, 1e-5, 1, 'roberta']],
    ['bert-base-multilingual-cased', ['bert', 12, 768, 12, 3072, 119547, 512, 2, 1e-12, 0, 'bert']],
    ['multilingual-minilm-l12-h384', ['bert', 12, 384, 12, 1536, 250037, 512, 2, 1e-12, 0, 'bert']],
    ['mminilmv2-l6-h384', ['xlm-roberta', 6, 384, 12, 1536, 250002, 514, 1, 1e-5, 1, 'roberta']],
    ['xtremedistil-l6-h256-uncased', ['bert', 6, 256, 8, 1024, 30522, 512, 2, 1e-12, 0, 'bert']],
  ] as const)('%s', (name, expected) => {
    expect(shape(name)).toEqual(expected);
    const config = preset(name).config;
    expect(parseHfConfig(JSON.parse(formatHfConfig(config)), name)).toEqual({ config, warnings: [] });
  });

  it('covers every preset name', () => {
    expect(PRESET_NAMES).toEqual(['xlm-roberta-base', 'bert-base-multilingual-cased', 'multilingual-minilm-l12-h384', 'mminilmv2-l6-h384', 'xtremedistil-l6-h256-uncased']);
    expect(preset('multilingual-minilm-l12-h384').hubId).toBe('microsoft/Multilingual-MiniLM-L12-H384');
  });
});
