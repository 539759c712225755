// Configs of the pretrained multilingual encoders xlmt targets, as their Hub config.json files declare them.
// Shape values were checked against the published config.json of each Hub id below; `architectures` is set only
// where the original repository's value was seen (saveHfModel writes its own anyway).
import { encoderConfig } from '../models/config.ts';
import { type HfModelConfig, hfModelConfig } from './hf-config.ts';

export const PRESET_NAMES = [
  'xlm-roberta-base',
  'bert-base-multilingual-cased',
  'multilingual-minilm-l12-h384',
  'mminilmv2-l6-h384',
  'xtremedistil-l6-h256-uncased',
] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

export interface Preset {
  readonly name: PresetName;
  /** Where the weights live on the Hugging Face Hub. */
  readonly hubId: string;
  readonly config: HfModelConfig;
}

const PRESETS: Readonly<Record<PresetName, Preset>> = {
  'xlm-roberta-base': {
    name: 'xlm-roberta-base',
    hubId: 'FacebookAI/xlm-roberta-base',
    config: hfModelConfig(
      encoderConfig({ vocabSize: 250002, maxPositionEmbeddings: 514, typeVocabSize: 1, layerNormEps: 1e-5 }),
      { modelType: 'xlm-roberta', padTokenId: 1, architectures: ['XLMRobertaForMaskedLM'], extra: { bos_token_id: 0, eos_token_id: 2 } },
    ),
  },
  'bert-base-multilingual-cased': {
    name: 'bert-base-multilingual-cased',
    hubId: 'google-bert/bert-base-multilingual-cased',
    config: hfModelConfig(encoderConfig({ vocabSize: 119547 }), { modelType: 'bert', padTokenId: 0, architectures: ['BertForMaskedLM'] }),
  },
  // BERT architecture (positions from 0, two segments) with XLM-R's SentencePiece vocabulary plus 35 extra rows;
  // the tokenizer's <pad> is 1 even though config.json says pad_token_id 0 (BERT positions never use it).
  'multilingual-minilm-l12-h384': {
    name: 'multilingual-minilm-l12-h384',
    hubId: 'microsoft/Multilingual-MiniLM-L12-H384',
    config: hfModelConfig(
      encoderConfig({ vocabSize: 250037, hiddenSize: 384, intermediateSize: 1536 }),
      { modelType: 'bert', padTokenId: 0, extra: { tokenizer_class: 'XLMRobertaTokenizer' } },
    ),
  },
  // The 6-layer multilingual MiniLM is MiniLMv2 distilled from XLM-R large: XLM-R architecture and vocabulary.
  'mminilmv2-l6-h384': {
    name: 'mminilmv2-l6-h384',
    hubId: 'nreimers/mMiniLMv2-L6-H384-distilled-from-XLMR-Large',
    config: hfModelConfig(
      encoderConfig({
        vocabSize: 250002,
        hiddenSize: 384,
        numHiddenLayers: 6,
        intermediateSize: 1536,
        maxPositionEmbeddings: 514,
        typeVocabSize: 1,
        layerNormEps: 1e-5,
      }),
      { modelType: 'xlm-roberta', padTokenId: 1, extra: { bos_token_id: 0, eos_token_id: 2 } },
    ),
  },
  'xtremedistil-l6-h256-uncased': {
    name: 'xtremedistil-l6-h256-uncased',
    hubId: 'microsoft/xtremedistil-l6-h256-uncased',
    config: hfModelConfig(
      encoderConfig({ hiddenSize: 256, numHiddenLayers: 6, numAttentionHeads: 8, intermediateSize: 1024 }),
      { modelType: 'bert', padTokenId: 0 },
    ),
  },
};

export function isPresetName(name: string): name is PresetName {
  return (PRESET_NAMES as readonly string[]).includes(name);
}

export function preset(name: PresetName): Preset {
  return PRESETS[name];
}
