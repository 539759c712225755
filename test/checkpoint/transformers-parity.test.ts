// Parity with Hugging Face transformers itself: checkpoints written by transformers' save_pretrained (tiny random
// weights, test/fixtures/transformers/, made by tools/reference/transformers_parity.py) go through `xlmt import`,
// and xlmt's tokenizer, logits, last hidden states and pooled output match what transformers recorded, padded
// batches included. No Python here: the fixtures are committed.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importClassifier } from '../../src/train/import-classifier.ts';
import { loadModelDir, type TrainedModel } from '../../src/train/model-dir.ts';
import { batchOf, encodeTexts, xlmtForward } from '../../tools/reference/xlmt-forward.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'transformers');
const TOLERANCE = 1e-5;

interface RecordedBatch {
  readonly texts: string[];
  readonly input_ids: number[][];
  readonly attention_mask: number[][];
  readonly logits: number[][];
  readonly last_hidden_state: number[][][];
  readonly pooler_output: number[][] | null;
}

interface Expected {
  readonly model_type: 'bert' | 'xlm-roberta';
  readonly problem_type: string;
  readonly labels: string[];
  readonly batches: RecordedBatch[];
}

const CASES = [
  { name: 'bert', task: 'sentiment', headStyle: 'bert', type: 'multiclass', positions: { convention: 'bert' } },
  { name: 'xlm-roberta', task: 'sentiment', headStyle: 'roberta', type: 'multiclass', positions: { convention: 'roberta', paddingIdx: 1 } },
  { name: 'xlm-roberta-multilabel', task: 'topics', headStyle: 'roberta', type: 'multilabel', positions: { convention: 'roberta', paddingIdx: 1 } },
] as const;

/** The largest |a − b| over two equally long sequences. */
function maxDiff(actual: ArrayLike<number>, expected: readonly number[]): number {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs((actual[i] as number) - (expected[i] as number)));
  return worst;
}

async function imported(name: string, task: string): Promise<TrainedModel> {
  const out = join(mkdtempSync(join(tmpdir(), 'xlmt-parity-')), 'model');
  const result = await importClassifier(join(FIXTURES, name), out, { task, threshold: 0.5 });
  expect(result.report.missing).toEqual([]);
  expect(result.report.unexpected.filter((u) => u.kind === 'other')).toEqual([]);
  // What eval, export, serve and predict load: the directory import wrote.
  return loadModelDir(out);
}

describe.each(CASES)('$name checkpoint saved by transformers', ({ name, task, headStyle, type, positions }) => {
  const expected = JSON.parse(readFileSync(join(FIXTURES, name, 'expected.json'), 'utf8')) as Expected;

  it('imports with its head, task type and position convention', async () => {
    const model = await imported(name, task);
    expect(model.meta).toMatchObject({ pooling: 'cls', headStyle, positions });
    expect(model.schema.tasks.map((t) => [t.name, t.type, t.labels])).toEqual([[task, type, expected.labels]]);
  });

  it('tokenizes as transformers does: the same ids and mask, padded right', async () => {
    const model = await imported(name, task);
    for (const recorded of expected.batches) {
      const batch = await encodeTexts(model, recorded.texts);
      expect(batchOf(recorded.input_ids, recorded.attention_mask)).toEqual(batch);
    }
  });

  it(`reproduces transformers' logits, last hidden states${name === 'bert' ? ' and pooled output' : ''} within ${TOLERANCE}`, async () => {
    const model = await imported(name, task);
    for (const recorded of expected.batches) {
      const out = await xlmtForward(model, batchOf(recorded.input_ids, recorded.attention_mask));
      expect(out.logits).not.toBeNull();
      expect(out.pooled !== null, 'a pooled output exactly where transformers has a pooler').toBe(recorded.pooler_output !== null);
      // Every position, padding included: padded positions use the position ids transformers gives them too.
      const diffs = {
        logits: maxDiff(out.logits ?? [], recorded.logits.flat()),
        hidden: maxDiff(out.hidden, recorded.last_hidden_state.flat(2)),
        pooled: recorded.pooler_output ? maxDiff(out.pooled ?? [], recorded.pooler_output.flat()) : 0,
      };
      for (const [what, diff] of Object.entries(diffs)) expect(diff, `${what}, batch of ${recorded.texts.length}`).toBeLessThan(TOLERANCE);
    }
  });

  it('would fail with the other position convention (the fixtures tell the two apart)', async () => {
    const model = await imported(name, task);
    const other = positions.convention === 'bert' ? { convention: 'roberta', paddingIdx: 0 } as const : { convention: 'bert' } as const;
    const wrong: TrainedModel = { ...model, meta: { ...model.meta, positions: other } };
    const recorded = expected.batches[0] as RecordedBatch;
    const out = await xlmtForward(wrong, batchOf(recorded.input_ids, recorded.attention_mask));
    expect(maxDiff(out.logits ?? [], recorded.logits.flat())).toBeGreaterThan(1e-2);
  });

  it('has outputs far from uniform, so the tolerance is a real bound', () => {
    const logits = (expected.batches[0] as RecordedBatch).logits.flat();
    expect(Math.max(...logits) - Math.min(...logits)).toBeGreaterThan(0.5);
  });
});
