// The unlabeled pretraining corpus (read by data/unlabeled.ts) served in a shuffled order per (seed, epoch), so a
// resumed run can jump straight to any (epoch, batch).
import { type CorpusReadOptions, readUnlabeledTexts, type UnlabeledCorpus } from '../data/unlabeled.ts';
import { groupByLength } from '../util/length-groups.ts';
import { mixSeed, Random } from '../util/random.ts';
import { PretrainError } from './errors.ts';

export type { CorpusReadOptions, UnlabeledCorpus } from '../data/unlabeled.ts';

/** The pretraining corpus; its errors are PretrainErrors. */
export function readUnlabeledCorpus(files: readonly string[], options: CorpusReadOptions = {}): Promise<UnlabeledCorpus> {
  return readUnlabeledTexts(files, { error: PretrainError, ...options });
}

export interface BatchingOptions {
  /** Texts per batch. */
  readonly batchSize: number;
  readonly seed: number;
  /** Drop each epoch's last, smaller batch. Default false: every text is seen once per epoch. */
  readonly dropLast?: boolean;
}

/** A position in the stream of batches: batch `batch` (from 0) of epoch `epoch` (from 0). */
export interface BatchCursor {
  readonly epoch: number;
  readonly batch: number;
}

export interface CorpusBatch extends BatchCursor {
  /** Indices into the corpus's texts. */
  readonly indices: Uint32Array;
  readonly texts: readonly string[];
  readonly langs: readonly (string | null)[];
}

/** A permutation of 0..size-1 (Fisher–Yates), a pure function of (seed, epoch). */
export function epochOrder(size: number, seed: number, epoch: number): Uint32Array {
  const order = new Uint32Array(size);
  for (let i = 0; i < size; i++) order[i] = i;
  // The extra 0x5e9 keeps this stream apart from the masking stream of mixSeed(seed, step) when epoch = step.
  const random = new Random(mixSeed(seed, epoch, 0x5e9));
  for (let i = size - 1; i > 0; i--) {
    const j = random.int(i + 1);
    const t = order[i] as number;
    order[i] = order[j] as number;
    order[j] = t;
  }
  return order;
}

/**
 * The epoch order with similar lengths batched together: within each window of `window` batches, texts are sorted
 * by length, cut into batches, and the window's batches shuffled. Short subtitle lines then stop paying for the
 * longest text of a random batch (padding was ~60% of the positions computed), while batches stay random across
 * windows. Deterministic in (seed, epoch).
 */
export function groupedEpochOrder(lengths: readonly number[], seed: number, epoch: number, batchSize: number, window: number): Uint32Array {
  const order = epochOrder(lengths.length, seed, epoch);
  if (window <= 1) return order;
  return Uint32Array.from(groupByLength(order, lengths, batchSize, window, new Random(mixSeed(seed, epoch, 0x9a0))));
}

export function batchesPerEpoch(corpusSize: number, options: BatchingOptions): number {
  checkBatching(options);
  return options.dropLast ? Math.floor(corpusSize / options.batchSize) : Math.ceil(corpusSize / options.batchSize);
}

/** The cursor of the `index`-th batch of the run (from 0): where a run that has consumed `index` batches resumes. */
export function cursorAt(index: number, corpusSize: number, options: BatchingOptions): BatchCursor {
  const perEpoch = batchesPerEpoch(corpusSize, options);
  if (perEpoch === 0) throw emptyEpoch(corpusSize, options);
  return { epoch: Math.floor(index / perEpoch), batch: index % perEpoch };
}

/**
 * Batches from `from` (default epoch 0, batch 0) on, epoch after epoch, until `epochs` epochs are complete
 * (default: without end). Batch k of epoch e is the same whether the run started at 0 or resumed there.
 */
export function* corpusBatches(
  corpus: UnlabeledCorpus,
  options: BatchingOptions & { readonly from?: BatchCursor; readonly epochs?: number; readonly groupWindow?: number },
): Generator<CorpusBatch> {
  const size = corpus.texts.length;
  const perEpoch = batchesPerEpoch(size, options);
  if (perEpoch === 0) throw emptyEpoch(size, options);
  const from = options.from ?? { epoch: 0, batch: 0 };
  if (!Number.isInteger(from.epoch) || from.epoch < 0 || !Number.isInteger(from.batch) || from.batch < 0 || from.batch >= perEpoch) {
    throw new PretrainError({
      code: 'BAD_ARGUMENT',
      message: 'no such batch',
      where: { api: 'corpusBatches', field: 'from' },
      expected: `epoch ≥ 0 and batch in [0, ${perEpoch})`,
      received: `epoch ${from.epoch}, batch ${from.batch}`,
    });
  }
  const { batchSize, seed } = options;
  const lengths = options.groupWindow ? corpus.texts.map((t) => t.length) : [];
  for (let epoch = from.epoch; options.epochs === undefined || epoch < options.epochs; epoch++) {
    const order = options.groupWindow ? groupedEpochOrder(lengths, seed, epoch, batchSize, options.groupWindow) : epochOrder(size, seed, epoch);
    for (let batch = epoch === from.epoch ? from.batch : 0; batch < perEpoch; batch++) {
      const indices = order.slice(batch * batchSize, Math.min(size, (batch + 1) * batchSize));
      yield {
        epoch,
        batch,
        indices,
        texts: Array.from(indices, (i) => corpus.texts[i] as string),
        langs: Array.from(indices, (i) => corpus.langs[i] ?? null),
      };
    }
  }
}

function checkBatching(options: BatchingOptions): void {
  if (!Number.isInteger(options.batchSize) || options.batchSize <= 0) {
    throw new PretrainError({ code: 'BAD_OPTION', message: 'not a batch size', where: { field: 'batchSize' }, expected: 'a positive integer', received: String(options.batchSize) });
  }
}

function emptyEpoch(size: number, options: BatchingOptions): PretrainError {
  return new PretrainError({
    code: 'BAD_OPTION',
    where: { field: 'batchSize' },
    message: `an epoch of ${size} texts has no full batch`,
    expected: `at most ${size} with dropLast`,
    received: String(options.batchSize),
    hint: 'lower batchSize or set dropLast to false',
  });
}
