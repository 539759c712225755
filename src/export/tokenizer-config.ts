// tokenizer_config.json of an export directory: what Hugging Face loaders read beside tokenizer.json. transformers.js
// (AutoTokenizer, and so `pipeline()`) loads no tokenizer at all without it, and pads with its `pad_token`.
import { SPECIAL_ROLES, type TextTokenizer } from '../tokenize/index.ts';

export const TOKENIZER_CONFIG_FILE = 'tokenizer_config.json';

/**
 * `PreTrainedTokenizerFast` is the class that reads tokenizer.json as it is, whatever its model (WordPiece,
 * Unigram, BPE); naming `BertTokenizer` would also make transformers.js return token_type_ids, an input the export
 * does not take. `model_max_length` is the length the model was trained to read, where loaders cut.
 */
export function tokenizerConfig(tokenizer: TextTokenizer, maxLength: number): Record<string, unknown> {
  const config: Record<string, unknown> = { tokenizer_class: 'PreTrainedTokenizerFast', model_max_length: maxLength, padding_side: 'right' };
  for (const role of SPECIAL_ROLES) {
    const special = tokenizer.specialTokens[role];
    if (special) config[`${role}_token`] = special.token;
  }
  return config;
}
