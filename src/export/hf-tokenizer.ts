// The tokenizer files of an export directory as Hugging Face loaders other than the Rust `tokenizers` read them:
// tokenizer_config.json, and a tokenizer.json that transformers.js's JS tokenizer port can run.
import { SPECIAL_ROLES, type TextTokenizer } from '../tokenize/index.ts';

export const TOKENIZER_CONFIG_FILE = 'tokenizer_config.json';

/**
 * tokenizer_config.json: transformers.js (AutoTokenizer, and so `pipeline()`) loads no tokenizer at all without it,
 * and pads with its `pad_token`. `PreTrainedTokenizerFast` is the class that reads tokenizer.json as it is, whatever
 * its model (WordPiece, Unigram, BPE); naming `BertTokenizer` would also make transformers.js return token_type_ids,
 * an input the export does not take. `model_max_length` is the length the model was trained to read, where loaders cut.
 */
export function tokenizerConfig(tokenizer: TextTokenizer, maxLength: number): Record<string, unknown> {
  const config: Record<string, unknown> = { tokenizer_class: 'PreTrainedTokenizerFast', model_max_length: maxLength, padding_side: 'right' };
  for (const role of SPECIAL_ROLES) {
    const special = tokenizer.specialTokens[role];
    if (special) config[`${role}_token`] = special.token;
  }
  return config;
}

// SentencePiece's NMT clean-up as the Rust `tokenizers` implements it (normalizers/unicode.rs, `do_nmt`): these code
// points are dropped, then these become ' '. Written as regex classes for two `Replace` normalizers.
const NMT_DROPPED = '[\u0001-\u0008\u000B\u000E-\u001F\u007F\u008F\u009F]';
const NMT_TO_SPACE = '[\u0009\u000A\u000C\u000D\u1680\u200B-\u200F\u2028\u2029\u2581\uFEFF\uFFFD]';
const NMT_AS_REPLACE = [
  { type: 'Replace', pattern: { Regex: NMT_DROPPED }, content: '' },
  { type: 'Replace', pattern: { Regex: NMT_TO_SPACE }, content: ' ' },
];

type NormalizerJson = { readonly type?: unknown; readonly normalizers?: unknown };

function withoutNmt(normalizer: NormalizerJson): NormalizerJson[] {
  if (normalizer.type === 'Nmt') return NMT_AS_REPLACE;
  if (normalizer.type === 'Sequence' && Array.isArray(normalizer.normalizers)) {
    return [{ ...normalizer, normalizers: (normalizer.normalizers as NormalizerJson[]).flatMap(withoutNmt) }];
  }
  return [normalizer];
}

/**
 * tokenizer.json with every `Nmt` normalizer spelled as the two `Replace` normalizers it amounts to: xlmt's Unigram
 * tokenizers (XLM-R style, nmt_nfkc) use Nmt, which transformers.js's tokenizer port does not know ("Unknown
 * Normalizer type: Nmt"). Both spellings give the same ids in the Rust `tokenizers`; a file without Nmt comes back
 * unchanged, byte for byte.
 */
export function portableTokenizerJson(json: string): string {
  if (!json.includes('"Nmt"')) return json;
  const parsed = JSON.parse(json) as { normalizer?: NormalizerJson | null };
  if (!parsed.normalizer) return json;
  const [single, ...more] = withoutNmt(parsed.normalizer);
  const normalizer = more.length > 0 ? { type: 'Sequence', normalizers: [single, ...more] } : single;
  return JSON.stringify({ ...parsed, normalizer });
}
