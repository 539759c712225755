// The pretraining configuration: a validated JSON file plus command-line overrides. Defaults are documented here
// and in docs/pretraining.md.
import { z } from 'zod';
import { configError, type ConfigOrigin } from '../train/config-errors.ts';
import { EncoderShapeSchema, type FullShape } from '../train/encoder-shape.ts';

const positiveInt = z.number().int().positive();

/**
 * The encoder's shape when pretraining from scratch (ignored with `init`). The default is BERT-Mini's shape
 * (4 layers × 256, 4 heads, FFN 1024; Turc et al., 2019): about 3M encoder weights plus the embeddings, small
 * enough for tens of thousands of steps on a 2-core CPU, big enough to be worth fine-tuning. 514 positions as
 * XLM-R, so a model pretrained with `maxLength` 128 can still be fine-tuned on up to 512 tokens.
 */
export const PRETRAIN_SHAPE: FullShape = {
  layers: 4, hidden: 256, heads: 4, ffn: 1024, maxPositions: 514, typeVocab: 1, layerNormEps: 1e-12, dropout: 0.1, attentionDropout: 0.1,
};

const PretrainFields = z.strictObject({
  /**
   * `mlm`: masked-language-model pretraining of the whole encoder. `skipgram`: word2vec's skip-gram with negative
   * sampling trains the word-embedding table alone (minutes of CPU) and saves it in a freshly initialized encoder.
   */
  objective: z.enum(['mlm', 'skipgram']).default('mlm'),
  /** Unlabeled text: .jsonl/.ndjson files (a text field a line) or plain text (a text a line), read in order. */
  corpus: z.array(z.string().min(1)).min(1),
  /** The JSONL field holding the text. */
  textField: z.string().min(1).default('text'),
  /** tokenizer.json; defaults to the one in `init`. */
  tokenizer: z.string().min(1).optional(),
  /** A Hugging Face checkpoint directory to continue pretraining; its masked-LM head is used when it has one. */
  init: z.string().min(1).optional(),
  /** Encoder shape for pretraining from scratch: `preset` and/or sizes (see src/train/encoder-shape.ts). */
  encoder: EncoderShapeSchema.default({}),
  /** Run directory: resolved config, metrics.jsonl, checkpoints/last, model/. */
  out: z.string().min(1).default('runs/pretrain'),
  /**
   * Tokens per text, special tokens included; longer texts are cut. Batches are padded to their longest text
   * only, so short texts cost what they are.
   */
  maxLength: positiveInt.default(128),
  batchSize: positiveInt.default(32),
  /**
   * Batch texts of similar length together within windows of this many batches (see groupedEpochOrder);
   * 0 or 1 draws batches at random.
   */
  groupWindow: z.number().int().min(0).default(50),
  /** Optimizer steps (one batch each). Give `steps` or `epochs`; with neither, one epoch. */
  steps: positiveInt.optional(),
  /** Passes over the corpus (held-out lines excluded). */
  epochs: positiveInt.optional(),
  /**
   * Peak learning rate. Default 5e-4 for `mlm` (a small model from scratch; continued pretraining wants ~5e-5),
   * 0.025 for `skipgram` (word2vec's, decayed linearly over all passes).
   */
  lr: z.number().positive().optional(),
  schedule: z.enum(['linear', 'cosine', 'constant']).default('linear'),
  /** Share of all steps spent warming up (RoBERTa's 6%). */
  warmupRatio: z.number().min(0).max(1).default(0.06),
  weightDecay: z.number().min(0).default(0.01),
  /** AdamW's epsilon; 1e-6 as in BERT's and RoBERTa's pretraining. */
  adamEps: z.number().positive().default(1e-6),
  maxGradNorm: z.number().positive().default(1),
  /** Share of tokens chosen for prediction (80% become the mask token, 10% a random token, 10% stay). */
  maskProbability: z.number().gt(0).max(1).default(0.15),
  /**
   * Texts held out of training to measure the masked-LM loss on at every checkpoint (at most a tenth of the
   * corpus); 0 turns the evaluation off. The same texts and masks each time, so the numbers compare across steps.
   */
  evalLines: z.number().int().min(0).default(200),
  /** skipgram: the widest context window, in tokens either side of the center token. */
  window: positiveInt.default(5),
  /** skipgram: noise tokens drawn per context pair. */
  negatives: positiveInt.default(5),
  /** skipgram: frequent-token subsampling threshold (word2vec's t); 0 keeps every token. */
  subsample: z.number().min(0).lt(1).default(1e-4),
  /** Save metrics, the resumable state and model/ every this many optimizer steps (and at the end). */
  checkpointEvery: positiveInt.default(500),
  nonFinite: z.enum(['error', 'skip']).default('error'),
  seed: z.number().int().min(0).default(42),
  threads: positiveInt.default(2),
  /** Texts per batch when evaluating held-out lines. */
  evalBatchSize: positiveInt.default(64),
});

export const PretrainConfigSchema = PretrainFields.refine((c) => c.steps === undefined || c.epochs === undefined, {
  message: 'give steps or epochs, not both',
  path: ['steps'],
}).refine((c) => c.objective === 'mlm' || c.steps === undefined, {
  message: 'skipgram counts passes over the corpus: give epochs, not steps',
  path: ['steps'],
}).refine((c) => c.objective === 'mlm' || c.init === undefined, {
  message: 'skipgram trains word embeddings for a new encoder: it cannot continue a checkpoint (drop init, or use objective mlm)',
  path: ['init'],
}).transform((c) => ({ ...c, lr: c.lr ?? (c.objective === 'skipgram' ? 0.025 : 5e-4) }));

export type PretrainConfig = z.infer<typeof PretrainConfigSchema>;
export type PretrainConfigInput = z.input<typeof PretrainConfigSchema>;

const KNOWN_FIELDS = Object.keys(PretrainFields.shape);

/**
 * Validate a configuration object (from a file, flags, or both merged). `origin` names its source: a file name or
 * description, or the file and the flags laid over it, so that errors name the flag or the file and field.
 */
export function parsePretrainConfig(input: unknown, origin: string | ConfigOrigin): PretrainConfig {
  const result = PretrainConfigSchema.safeParse(input);
  if (!result.success) throw configError(result.error, input, typeof origin === 'string' ? { file: origin } : origin, KNOWN_FIELDS);
  return result.data;
}
