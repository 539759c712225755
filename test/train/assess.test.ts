// xlmt eval: saved models score a labeled file exactly as training's last dev evaluation did; runs combine.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { evalCommand } from '../../src/cli/eval.ts';
import { parseTrainConfig } from '../../src/train/config.ts';
import { acrossRuns, evaluateModel, resolveModelDir } from '../../src/train/assess.ts';
import { runTraining } from '../../src/train/run.ts';
import { runFixture, type RunFixture } from './fixtures.ts';

let fixture: RunFixture;
const runs: string[] = [];

beforeAll(async () => {
  fixture = await runFixture();
  for (const seed of [1, 2, 3]) {
    const config = parseTrainConfig({
      train: fixture.train, dev: fixture.dev, tasks: fixture.tasks, tokenizer: fixture.tokenizer, out: join(fixture.dir, `seed${seed}`),
      encoder: { layers: 1, hidden: 32, heads: 2, ffn: 64, maxPositions: 40 }, maxLength: 16, batchSize: 8, epochs: 3, lr: 3e-3, seed, threads: 1,
    }, 'test');
    await runTraining(config, { log: () => {} });
    runs.push(config.out);
  }
}, 120_000);

describe('xlmt eval', () => {
  it('reproduces the best epoch\'s dev scores from the saved model and its thresholds', async () => {
    const evaluation = await evaluateModel(runs[0] as string, fixture.dev, 1);
    const best = JSON.parse(readFileSync(join(runs[0] as string, 'best', 'xlmt.json'), 'utf8')) as { info: { devMeanMacroF1: number } };
    expect(evaluation.summary.meanMacroF1).toBeCloseTo(best.info.devMeanMacroF1, 6);
    expect(evaluation.reports.map((r) => r.task)).toEqual(['sentiment', 'topics']);
    expect(evaluation.reports[0]?.confusion?.labels).toEqual(['negative', 'positive']);
    expect(evaluation.reports[1]?.thresholds).toHaveLength(2);
    expect(evaluation.reports[0]?.perLanguage.map((l) => l.lang)).toEqual(['de', 'en']);
  });

  it('summarizes several runs with 95% intervals and degradation against reference runs', async () => {
    const evaluations = await Promise.all(runs.map((r) => evaluateModel(r, fixture.dev, 1)));
    const scores = acrossRuns(evaluations.slice(0, 2), evaluations.slice(2));
    const sentiment = scores.find((s) => s.task === 'sentiment' && s.lang === null);
    expect(sentiment?.runs).toHaveLength(2);
    expect(sentiment?.summary.ci).not.toBeNull();
    const [a, b] = sentiment?.runs ?? [];
    expect(sentiment?.summary.mean).toBeCloseTo(((a ?? 0) + (b ?? 0)) / 2, 10);
    const ref = evaluations[2]?.reports[0]?.macroF1 ?? 0;
    expect(sentiment?.degradation?.estimate).toBeCloseTo(((ref - (sentiment?.summary.mean ?? 0)) / ref) * 100, 6);
    expect(scores.some((s) => s.task === 'topics' && s.lang === 'de')).toBe(true);
  });

  it('leaves the degradation undefined, not an error, where the reference scores 0', async () => {
    const evaluations = await Promise.all(runs.slice(0, 2).map((r) => evaluateModel(r, fixture.dev, 1)));
    const zero = structuredClone(evaluations[1]) as NonNullable<(typeof evaluations)[number]>;
    (zero.reports[0] as { macroF1: number }).macroF1 = 0;
    const scores = acrossRuns(evaluations.slice(0, 1), [zero]);
    const sentiment = scores.find((s) => s.task === 'sentiment' && s.lang === null);
    expect(sentiment?.reference).toBe(0);
    expect(sentiment?.degradation).toBeNull();
    expect(scores.find((s) => s.task === 'topics' && s.lang === null)?.degradation).not.toBeNull();
  });

  it('takes a training run as --init for its best model, and a model directory as it is', () => {
    const base = { train: fixture.train, dev: fixture.dev, tasks: fixture.tasks, out: join(fixture.dir, 'never') };
    expect(parseTrainConfig({ ...base, init: runs[0] }, 'test').init).toBe(join(runs[0] as string, 'best'));
    expect(parseTrainConfig({ ...base, init: join(runs[0] as string, 'best') }, 'test').init).toBe(join(runs[0] as string, 'best'));
    expect(parseTrainConfig({ ...base, init: join(fixture.dir, 'no-such') }, 'test').init).toBe(join(fixture.dir, 'no-such'));
  });

  it('prints JSON and names a directory that holds no model', async () => {
    const out: string[] = [];
    const log = console.log;
    console.log = (line: string) => out.push(line);
    try {
      await evalCommand().parseAsync(['--model', runs[0] as string, '--model', runs[1] as string, '--data', fixture.dev, '--threads', '1', '--json'], { from: 'user' });
    } finally {
      console.log = log;
    }
    const json = JSON.parse(out.join('\n')) as { models: unknown[]; acrossRuns: unknown[] };
    expect(json.models).toHaveLength(2);
    expect(json.acrossRuns.length).toBeGreaterThan(0);
    expect(() => resolveModelDir(fixture.dir)).toThrow(/neither a model directory/);
  });
});
