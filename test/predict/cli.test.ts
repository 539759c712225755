// `xlmt predict` with a real exported model: in-process through commander for JSONL and CSV, and as a child
// process killed with SIGKILL mid-run, then resumed: the output must equal an unbroken run's, byte for byte.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { predictCommand } from '../../src/cli/predict.ts';
import { OnnxClassifier } from '../../src/infer/onnx-classifier.ts';
import { progressPath } from '../../src/predict/progress-file.ts';
import { exportedModel, type ExportedFixture } from '../infer/exported-model.ts';
import { tempDir } from './fixtures.ts';

let fx: ExportedFixture;
let dir: string;
beforeAll(async () => {
  fx = await exportedModel();
  dir = tempDir();
}, 60_000);

afterEach(() => vi.restoreAllMocks());

async function predict(args: string[]): Promise<string[]> {
  const printed: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...parts: unknown[]) => void printed.push(parts.join(' ')));
  await predictCommand().parseAsync(['--model', fx.dir, '--threads', '1', '--quiet', ...args], { from: 'user' });
  return printed.join('\n').split('\n');
}

interface DevRow { id: string; text: string; lang: string }
const devRows = (): DevRow[] => readFileSync(fx.data.dev, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as DevRow);

/** The dev rows cycled to `n` rows with unique ids. */
function bigInput(n: number): string {
  const rows = devRows();
  const lines = Array.from({ length: n }, (_, i) => {
    const r = rows[i % rows.length] as DevRow;
    return JSON.stringify({ id: `big${i}`, text: r.text, lang: r.lang });
  });
  const file = join(dir, `big-${n}.jsonl`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

describe('xlmt predict', () => {
  it('scores a JSONL file in order, as the classifier does, and prints counts and throughput', async () => {
    const out = join(dir, 'dev.predictions.jsonl');
    const printed = await predict(['--in', fx.data.dev, '--out', out, '--batch-size', '4']);
    const rows = devRows();
    expect(printed).toEqual([
      `read ${rows.length} rows: ${rows.length} written → ${out}, 0 errored`,
      expect.stringMatching(new RegExp(`^scored ${rows.length} texts in \\d+\\.\\d s: [\\d,]+ texts/s \\(1 threads, batch 4\\)$`)),
    ]);
    const written = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string; lang: string; tasks: Record<string, { label?: string; labels?: string[] }> });
    expect(written.map((r) => [r.id, r.lang])).toEqual(rows.map((r) => [r.id, r.lang]));
    const classifier = await OnnxClassifier.load(fx.dir, { threads: 1, batchSize: 4 }); // the same passes as the run's one chunk
    const direct = await classifier.classify(rows.map((r) => r.text));
    await classifier.release();
    written.forEach((r, i) => {
      const d = direct[i]?.tasks;
      expect([r.tasks.sentiment?.label, r.tasks.topics?.labels]).toEqual([d?.sentiment && 'label' in d.sentiment ? d.sentiment.label : null, d?.topics && 'labels' in d.topics ? d.topics.labels : null]);
    });
  });

  it('reads CSV through --text-column and writes CSV for a task subset', async () => {
    const rows = devRows().slice(0, 5);
    const input = join(dir, 'dev.csv');
    writeFileSync(input, `comment,language\n${rows.map((r) => `"${r.text.replaceAll('"', '""')}",${r.lang}`).join('\n')}\n`);
    const out = join(dir, 'dev.predictions.csv');
    await predict(['--in', input, '--out', out, '--text-column', 'comment', '--keep', 'language', '--tasks', 'sentiment']);
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('id,line,language,sentiment,sentiment.negative,sentiment.positive,truncated');
    expect(lines.slice(1).map((l) => l.split(',').slice(0, 4))).toEqual(rows.map((r, i) => [String(i + 2), String(i + 2), r.lang, expect.stringMatching(/^(negative|positive)$/)]));
  });

  it('stops at a bad row with its file:line', async () => {
    const input = join(dir, 'bad.jsonl');
    writeFileSync(input, '{"text": "great"}\n{"text": ["not", "a", "string"]}\n');
    await expect(predict(['--in', input, '--out', join(dir, 'bad.out.jsonl')])).rejects.toThrow(`${input}:2: text: the text must be a string (expected a non-empty string; received array)`);
  });

  it('resumes after SIGKILL mid-run with no row lost or written twice', async () => {
    const n = 8_000;
    const input = bigInput(n);
    const args = ['--in', input, '--chunk-size', '100', '--batch-size', '16'];
    const reference = join(dir, 'big.reference.jsonl');
    await predict([...args, '--out', reference]);

    const out = join(dir, 'big.killed.jsonl');
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'predict', '--model', fx.dir, '--threads', '1', '--quiet', ...args, '--out', out], { stdio: 'ignore' });
    const exited = new Promise((r) => child.once('exit', r));
    const deadline = Date.now() + 60_000;
    let done = 0;
    while (Date.now() < deadline && done < 200) {
      if (existsSync(progressPath(out))) done = (JSON.parse(readFileSync(progressPath(out), 'utf8')) as { rowsRead: number }).rowsRead;
      await new Promise((r) => setTimeout(r, 10));
    }
    child.kill('SIGKILL');
    await exited;
    expect(existsSync(progressPath(out)), 'the run finished before it could be killed: make the input longer').toBe(true);
    const killedAt = (JSON.parse(readFileSync(progressPath(out), 'utf8')) as { rowsRead: number }).rowsRead;
    expect(killedAt).toBeGreaterThan(0);
    expect(killedAt).toBeLessThan(n);

    const printed = await predict([...args, '--out', out]);
    expect(printed[0]).toBe(`resumed after ${killedAt.toLocaleString('en-US')} rows done by an interrupted run`);
    expect(printed[1]).toBe(`read ${n.toLocaleString('en-US')} rows: ${n.toLocaleString('en-US')} written → ${out}, 0 errored`);
    const ids = readFileSync(out, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { id: string }).id);
    expect(ids).toEqual(Array.from({ length: n }, (_, i) => `big${i}`));
    expect(readFileSync(out).equals(readFileSync(reference))).toBe(true);
    expect(existsSync(progressPath(out))).toBe(false);
  });
});
