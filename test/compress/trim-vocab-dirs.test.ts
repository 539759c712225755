// `xlmt trim-vocab` end to end on a tiny trained run and on its export: smaller outputs that load, evaluate,
// export and serve, with the same probabilities (within 1e-6) as the originals, checked here independently of
// the command's own proof.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { trimVocab, type TrimReport } from '../../src/compress/trim-vocab/index.ts';
import { findVocabTables, readOnnxModel } from '../../src/compress/trim-vocab/onnx-tables.ts';
import { exportModel } from '../../src/export/export.ts';
import { OnnxClassifier } from '../../src/infer/onnx-classifier.ts';
import { evaluateModel } from '../../src/train/assess.ts';
import { loadModelDir } from '../../src/train/model-dir.ts';
import { readManifest } from '../../src/util/output-kinds.ts';
import { runXlmt } from '../helpers/cli.ts';
import { runFixture, type RunFixture, trainedRun } from '../train/fixtures.ts';
import { rowsOf } from './trim-vocab-fixtures.ts';

const TOLERANCE = 1e-6;

let data: RunFixture;
let run: string;
let exported: string;
/** The English rows of the training and dev files: German words are dropped, so the ids after them move. */
let corpus: string;
let devEn: string;

const texts = (file: string): string[] => readFileSync(file, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { text: string }).text);

/** Largest |p − q| over every task and label of two exports, on `input`. */
async function largestDifference(a: string, b: string, input: readonly string[]): Promise<number> {
  const [ca, cb] = await Promise.all([OnnxClassifier.load(a, { threads: 1 }), OnnxClassifier.load(b, { threads: 1 })]);
  try {
    const [pa, pb] = await Promise.all([ca.classify(input), cb.classify(input)]);
    let worst = 0;
    pa.forEach((prediction, i) => {
      for (const [task, answer] of Object.entries(prediction.tasks)) {
        const other = pb[i]?.tasks[task];
        for (const [label, p] of Object.entries(answer.scores)) worst = Math.max(worst, Math.abs(p - (other?.scores[label] ?? Number.NaN)));
      }
    });
    return worst;
  } finally {
    await Promise.all([ca.release(), cb.release()]);
  }
}

beforeAll(async () => {
  data = await runFixture(60, 20);
  run = await trainedRun(data, { epochs: 2, lr: 3e-3 });
  exported = join(data.dir, 'export');
  await exportModel(run, exported, { quantization: 'none', checkSample: 10, threads: 1 });
  corpus = rowsOf(data.train, 'en', join(data.dir, 'train-en.jsonl'));
  devEn = rowsOf(data.dev, 'en', join(data.dir, 'dev-en.jsonl'));
}, 60_000);

describe('trim-vocab on a training run', () => {
  let report: TrimReport;
  let out: string;
  beforeAll(async () => {
    out = join(data.dir, 'run-trim');
    report = await trimVocab({ model: run, corpus: [corpus], out, threads: 1 });
  }, 60_000);

  it('writes a smaller model directory of the run\'s best model, marked as a trim-vocab output', () => {
    expect(report.model).toBe(join(run, 'best'));
    expect(report.kind).toBe('model');
    expect(report.rows.before).toBe(120);
    expect(report.rows.after).toBeLessThan(120);
    expect(report.file.bytesAfter).toBeLessThan(report.file.bytesBefore);
    expect(readManifest(out)?.command).toBe('trim-vocab');
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as { vocab_size: number };
    expect(config.vocab_size).toBe(report.rows.after);
  });

  it('proves itself: every corpus text tokenized identically, probabilities equal', () => {
    expect(report.proof.corpus).toMatchObject({ texts: 30, identical: 30 });
    expect(report.proof.probabilities.texts).toBeGreaterThan(30);
    expect(report.proof.probabilities.maxAbsDiff).toBeLessThanOrEqual(TOLERANCE);
  });

  it('gathers the embedding rows of the kept tokens, each under its new id', async () => {
    const [before, after] = await Promise.all([loadModelDir(join(run, 'best')), loadModelDir(out)]);
    const name = 'embeddings.word_embeddings.weight';
    const rowsBefore = before.params.get(name);
    const rowsAfter = after.params.get(name);
    const width = 16;
    expect(rowsAfter?.shape).toEqual([report.rows.after, width]);
    let moved = 0;
    for (let id = 0; id < report.rows.after; id++) {
      const token = after.tokenizer.idToToken(id) as string;
      const old = before.tokenizer.tokenToId(token) as number;
      expect(old, token).not.toBeNull();
      if (old !== id) moved++;
      expect(Array.from(rowsAfter?.data.subarray(id * width, (id + 1) * width) ?? []), token).toEqual(Array.from(rowsBefore?.data.subarray(old * width, (old + 1) * width) ?? []));
    }
    expect(moved).toBeGreaterThan(10);
    expect(after.tokenizer.tokenToId('schlecht')).toBeNull();
    expect(after.meta.padId).toBe(after.tokenizer.tokenToId('[PAD]'));
  });

  it('evaluates to the same scores and exports to the same probabilities as the original', async () => {
    const [a, b] = await Promise.all([evaluateModel(run, devEn, 1), evaluateModel(out, devEn, 1)]);
    expect(b.reports.map((r) => r.macroF1)).toEqual(a.reports.map((r) => r.macroF1));
    const trimmedExport = join(data.dir, 'run-trim-export');
    await exportModel(out, trimmedExport, { quantization: 'none', checkSample: 10, threads: 1 });
    expect(await largestDifference(exported, trimmedExport, [...texts(corpus), ...texts(devEn)])).toBeLessThanOrEqual(TOLERANCE);
  }, 60_000);

  it('replaces its own earlier output when run again', async () => {
    const again = await trimVocab({ model: run, corpus: [corpus], out, threads: 1 });
    expect(again.rows).toEqual(report.rows);
    expect(readManifest(out)?.command).toBe('trim-vocab');
  }, 60_000);
});

describe('trim-vocab on an export', () => {
  it('rewrites onnx/model.onnx with the kept rows, and the export serves the same probabilities', async () => {
    const out = join(data.dir, 'export-trim');
    const report = await trimVocab({ model: exported, corpus: [corpus], out, threads: 1 });
    expect(report.kind).toBe('export');
    expect(report.file.name).toBe('onnx/model.onnx');
    expect(report.rows.after).toBeLessThan(report.rows.before);
    expect(report.file.bytesAfter).toBeLessThan(report.file.bytesBefore);
    expect(report.proof.corpus.identical).toBe(report.proof.corpus.texts);
    expect(await largestDifference(exported, out, [...texts(corpus), ...texts(devEn)])).toBeLessThanOrEqual(TOLERANCE);
    const meta = JSON.parse(readFileSync(join(out, 'xlmt.json'), 'utf8')) as { info: { trimVocab: { rowsAfter: number }; export: unknown } };
    expect(meta.info.trimVocab.rowsAfter).toBe(report.rows.after);
    expect(meta.info.export).toBeDefined();
  }, 60_000);
});

describe('trim-vocab on an int8 export with an int8 word table', () => {
  it('cuts the int8 rows and their per-row scales together, and serves the same probabilities', async () => {
    const int8 = join(data.dir, 'export-int8');
    await exportModel(run, int8, { quantization: 'int8-per-channel', int8Embeddings: 'on', checkSample: 10, threads: 1 });
    const path = join(int8, 'onnx', 'model.onnx');
    const before = findVocabTables(readOnnxModel(readFileSync(path), path), path);
    expect(before.names.length).toBe(2);
    const out = join(data.dir, 'export-int8-trim');
    const report = await trimVocab({ model: int8, corpus: [corpus], out, threads: 1 });
    const trimmedPath = join(out, 'onnx', 'model.onnx');
    const after = findVocabTables(readOnnxModel(readFileSync(trimmedPath), trimmedPath), trimmedPath);
    expect([...after.names].sort()).toEqual([...before.names].sort());
    expect(after.rows).toBe(report.rows.after);
    expect(await largestDifference(int8, out, [...texts(corpus), ...texts(devEn)])).toBeLessThanOrEqual(TOLERANCE);
  }, 60_000);
});

describe('xlmt trim-vocab (command line)', () => {
  it('prints the rows, the file sizes and the proof\'s figures', () => {
    const out = join(data.dir, 'cli-trim');
    const result = runXlmt(['trim-vocab', '--model', run, '--corpus', corpus, '--out', out, '--threads', '1']);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/rows: 120 → \d+ /);
    expect(result.stdout).toMatch(/model\.safetensors: [\d.]+ kB → [\d.]+ kB/);
    expect(result.stdout).toContain('corpus: 30 of 30 texts tokenized identically (100.00%); unknown tokens 0.00% → 0.00%');
    expect(result.stdout).toMatch(/sample \(.*\): \d+ of 32 texts tokenized identically/);
    expect(result.stdout).toMatch(/largest \|Δp\| \S+ \(tolerance 1e-6\)/);
  }, 60_000);

  it('prints one JSON object with --json', () => {
    const out = join(data.dir, 'cli-trim-json');
    const result = runXlmt(['trim-vocab', '--model', exported, '--corpus', corpus, '--out', out, '--threads', '1', '--json']);
    expect(result.status).toBe(0);
    const report = JSON.parse(result.stdout) as TrimReport;
    expect(report).toMatchObject({ kind: 'export', out, minCount: 1, corpus: { texts: 30 } });
  }, 60_000);
});
