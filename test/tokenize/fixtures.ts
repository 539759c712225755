// Shared test inputs: a 2k-line multilingual corpus, texts in several scripts, and hand-written tokenizer.json files.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
export const UNLABELED = resolve(HERE, '../../../shared/data/xm-bench/unlabeled.jsonl');

/** Texts in scripts the first 2k lines may lack, so both trained alphabets cover them. */
export const MULTI_SCRIPT = [
  'مرحبا بالعالم، كيف حالك؟',
  '你好，世界！今天天气很好。',
  'नमस्ते दुनिया, आप कैसे हैं?',
  'Привет, мир! Как дела?',
  'Γειά σου κόσμε',
  'שלום עולם',
  'こんにちは世界',
  'Ça va? Größe, naïve façade 🙂🎉',
] as const;

let corpus: string[] | null = null;

/** The first `n` texts of xm-bench's unlabeled.jsonl, plus MULTI_SCRIPT. */
export function corpusLines(n = 2000): string[] {
  if (!existsSync(UNLABELED)) throw new Error(`test corpus missing: ${UNLABELED} (xm-bench shared data)`);
  corpus ??= readFileSync(UNLABELED, 'utf8')
    .split('\n')
    .slice(0, n)
    .filter((line) => line.trim() !== '')
    .map((line) => (JSON.parse(line) as { text: string }).text);
  return [...corpus, ...MULTI_SCRIPT];
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'xlmt-tokenize-test-'));
}

export function writeTemp(name: string, content: string): string {
  const path = join(tempDir(), name);
  writeFileSync(path, content);
  return path;
}

const added = (id: number, content: string, lstrip = false) => ({
  id,
  content,
  single_word: false,
  lstrip,
  rstrip: false,
  normalized: false,
  special: true,
});

/** mBERT-like: [PAD]=0, [UNK]=100, [CLS]=101, [SEP]=102, [MASK]=103, then a few words; TemplateProcessing. */
export function bertJson(options: { withPad?: boolean; postProcessor?: unknown } = {}): string {
  const withPad = options.withPad ?? true;
  const vocab: Record<string, number> = {};
  vocab[withPad ? '[PAD]' : '[unused0]'] = 0;
  for (let i = 1; i < 100; i++) vocab[`[unused${i}]`] = i;
  ['[UNK]', '[CLS]', '[SEP]', '[MASK]', 'hello', 'world', '##s', '!', ',', '你', '好'].forEach((t, i) => (vocab[t] = 100 + i));
  const template = {
    type: 'TemplateProcessing',
    single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
    pair: [
      { SpecialToken: { id: '[CLS]', type_id: 0 } },
      { Sequence: { id: 'A', type_id: 0 } },
      { SpecialToken: { id: '[SEP]', type_id: 0 } },
      { Sequence: { id: 'B', type_id: 1 } },
      { SpecialToken: { id: '[SEP]', type_id: 1 } },
    ],
    special_tokens: {
      '[CLS]': { id: '[CLS]', ids: [101], tokens: ['[CLS]'] },
      '[SEP]': { id: '[SEP]', ids: [102], tokens: ['[SEP]'] },
    },
  };
  return JSON.stringify({
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [...(withPad ? [added(0, '[PAD]')] : []), added(100, '[UNK]'), added(101, '[CLS]'), added(102, '[SEP]'), added(103, '[MASK]')],
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: options.postProcessor ?? template,
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
  });
}

/** XLM-R-like: Unigram, Metaspace, RobertaProcessing, <s>=0 <pad>=1 </s>=2 <unk>=3 … <mask> last; file padding/truncation set. */
export function xlmrJson(): string {
  const vocab: [string, number][] = [
    ['<s>', 0],
    ['<pad>', 0],
    ['</s>', 0],
    ['<unk>', 0],
    ['▁hello', -1],
    ['▁world', -1.5],
    ['s', -2],
    ['▁', -3],
    ['h', -4],
    ['e', -4],
    ['l', -4],
    ['o', -4],
    ['w', -4],
    ['r', -4],
    ['d', -4],
    ['<mask>', 0],
  ];
  return JSON.stringify(
    {
      version: '1.0',
      truncation: { direction: 'Right', max_length: 3, strategy: 'LongestFirst', stride: 0 },
      padding: { strategy: 'BatchLongest', direction: 'Right', pad_to_multiple_of: null, pad_id: 1, pad_type_id: 0, pad_token: '<pad>' },
      added_tokens: [added(0, '<s>'), added(1, '<pad>'), added(2, '</s>'), added(3, '<unk>'), added(15, '<mask>', true)],
      normalizer: { type: 'NFKC' },
      pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
      post_processor: { type: 'RobertaProcessing', sep: ['</s>', 2], cls: ['<s>', 0], trim_offsets: true, add_prefix_space: true },
      decoder: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
      model: { type: 'Unigram', unk_id: 3, vocab, byte_fallback: false },
    },
    null,
    2,
  );
}
