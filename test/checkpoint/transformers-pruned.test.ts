// Head-pruned checkpoints written by transformers: `model.prune_heads({0: [1, 3], 1: [0]})` then save_pretrained
// (transformers 4.x; 5.0 removed head pruning), in test/fixtures/transformers/*-pruned/, made by
// tools/reference/pruned_heads_parity.py. Through `xlmt import` they keep transformers' pruned_heads as xlmt's
// per-layer shapes, and xlmt reproduces the logits, every layer's hidden states and the pooled output transformers
// recorded. No Python here: the fixtures are committed.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importClassifier } from '../../src/train/import-classifier.ts';
import { loadModelDir, type TrainedModel } from '../../src/train/model-dir.ts';
import { layerShapes } from '../../src/models/config.ts';
import { batchOf, encodeTexts, xlmtForward } from '../../tools/reference/xlmt-forward.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'transformers');
const TOLERANCE = 1e-5;

interface RecordedBatch {
  readonly texts: string[];
  readonly input_ids: number[][];
  readonly attention_mask: number[][];
  readonly logits: number[][];
  /** The embeddings' output, then each layer's: [layers + 1][batch][seq][hidden]. */
  readonly hidden_states: number[][][][];
  readonly pooler_output: number[][] | null;
}

interface Expected {
  readonly pruned_heads: Record<string, number[]>;
  /** [heads kept, FFN size] per layer, read off the weights transformers loaded. */
  readonly layer_shapes: [number, number][];
  readonly batches: RecordedBatch[];
}

const CASES = [
  { name: 'bert-pruned', headStyle: 'bert' },
  { name: 'xlm-roberta-pruned', headStyle: 'roberta' },
] as const;

function maxDiff(actual: ArrayLike<number>, expected: readonly number[]): number {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs((actual[i] as number) - (expected[i] as number)));
  return worst;
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'xlmt-pruned-'));
}

async function imported(from: string): Promise<{ model: TrainedModel; out: string }> {
  const out = join(tempDir(), 'model');
  const result = await importClassifier(from, out, { task: 'sentiment', threshold: 0.5 });
  expect(result.report.missing).toEqual([]);
  expect(result.report.unexpected.filter((u) => u.kind === 'other')).toEqual([]);
  // What eval, export, serve and predict load: the directory import wrote.
  return { model: await loadModelDir(out), out };
}

describe.each(CASES)('$name: a head-pruned checkpoint saved by transformers', ({ name, headStyle }) => {
  const dir = join(FIXTURES, name);
  const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Expected;
  const prunedHeads = Object.fromEntries(Object.entries(expected.pruned_heads).map(([layer, heads]) => [Number(layer), heads]));

  it('imports with transformers\' pruned_heads as its per-layer shapes, and writes them back', async () => {
    const { model, out } = await imported(dir);
    expect(model.meta.headStyle).toBe(headStyle);
    expect(model.hf.encoder.prunedHeads).toEqual(prunedHeads);
    expect(layerShapes(model.hf.encoder).map((s) => [s.heads.length, s.intermediateSize])).toEqual(expected.layer_shapes);
    expect(model.params.get('encoder.layer.0.attention.self.query.weight')?.shape).toEqual([16, 32]); // 2 heads of 8 kept
    expect(model.params.get('encoder.layer.1.attention.output.dense.weight')?.shape).toEqual([32, 24]);
    expect(model.params.get('encoder.layer.2.attention.self.value.weight')?.shape).toEqual([32, 32]);
    const written = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(written['pruned_heads']).toEqual(expected.pruned_heads);
    expect(written['num_attention_heads']).toBe(4);
    expect(written).not.toHaveProperty('xlmt_intermediate_sizes');
  });

  it('tokenizes as transformers does', async () => {
    const { model } = await imported(dir);
    for (const recorded of expected.batches) {
      expect(batchOf(recorded.input_ids, recorded.attention_mask)).toEqual(await encodeTexts(model, recorded.texts));
    }
  });

  it(`reproduces transformers' logits, every layer's hidden states${headStyle === 'bert' ? ' and the pooled output' : ''} within ${TOLERANCE}`, async () => {
    const { model } = await imported(dir);
    for (const recorded of expected.batches) {
      const out = await xlmtForward(model, batchOf(recorded.input_ids, recorded.attention_mask));
      expect(out.hiddenStates).toHaveLength(recorded.hidden_states.length);
      expect(out.pooled !== null, 'a pooled output exactly where transformers has a pooler').toBe(recorded.pooler_output !== null);
      // Every position, padding included.
      const diffs: Record<string, number> = {
        logits: maxDiff(out.logits ?? [], recorded.logits.flat()),
        pooled: recorded.pooler_output ? maxDiff(out.pooled ?? [], recorded.pooler_output.flat()) : 0,
      };
      recorded.hidden_states.forEach((states, i) => {
        diffs[i === 0 ? 'embeddings' : `layer ${i - 1}`] = maxDiff(out.hiddenStates[i] ?? [], states.flat(2));
      });
      for (const [what, diff] of Object.entries(diffs)) expect(diff, `${what}, batch of ${recorded.texts.length}`).toBeLessThan(TOLERANCE);
    }
  });

  it('without pruned_heads in config.json, the import refuses the narrower tensors and names one', async () => {
    const copy = join(tempDir(), 'no-pruned-heads');
    cpSync(dir, copy, { recursive: true });
    const config = JSON.parse(readFileSync(join(copy, 'config.json'), 'utf8')) as Record<string, unknown>;
    delete config['pruned_heads'];
    writeFileSync(join(copy, 'config.json'), JSON.stringify(config));
    await expect(importClassifier(copy, join(tempDir(), 'model'), { task: 'sentiment', threshold: 0.5 }))
      .rejects.toThrow(/encoder\.layer\.0\.attention\.self\.query\.weight.*shape mismatch, graph \[32, 32\], checkpoint \[16, 32\]/s);
  });

  it('has outputs far from uniform, so the tolerance is a real bound', () => {
    const logits = (expected.batches[0] as RecordedBatch).logits.flat();
    expect(Math.max(...logits) - Math.min(...logits)).toBeGreaterThan(0.5);
  });
});
