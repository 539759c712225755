// Finite-difference checks of every gradient rule (tables in cases/), and a coverage check over gradientRules.
import { describe, expect, it } from 'vitest';
import { backward, gradientRules } from '../../src/autodiff/index.ts';
import { GraphBuilder, toModelProto } from '../../src/builder/index.ts';
import type { Value } from '../../src/ir/graph.ts';
import { tensorFromNumbers } from '../../src/ir/tensor.ts';
import { caseTables, exactChecks } from './cases/index.ts';
import { checkGradient, type GradCase, nth, numbers, runGraph } from './gradcheck.ts';

async function check(c: GradCase): Promise<void> {
  const result = await checkGradient(c);
  if (!result.ok) throw new Error(`gradient mismatch: ${result.message}`);
}

for (const [family, cases] of Object.entries(caseTables)) {
  describe(`${family} gradients match central differences`, () => {
    for (const c of cases) {
      const { known } = c;
      if (!known) {
        it(c.name, () => check(c));
        continue;
      }
      // A bug in src (see `known.bug`): the check must fail with this symptom until src is fixed.
      it(`${c.name} [known bug: ${known.bug}]`, async () => {
        await expect(check(c)).rejects.toThrow(known.symptom);
      });
    }
  });
}

describe('gradients checked exactly', () => {
  for (const check of exactChecks) it(check.name, () => check.run());
});

describe('coverage', () => {
  const covered = new Set([...Object.values(caseTables).flat(), ...exactChecks].flatMap((c) => c.ops));
  const ruled = new Set(Object.entries(gradientRules).flatMap(([domain, rules]) => Object.keys(rules).map((op) => (domain ? `${domain}::${op}` : op))));

  it('has a check case for every op in gradientRules, in every domain', () => {
    expect([...ruled].filter((op) => !covered.has(op))).toEqual([]);
  });

  it('names only ops that have a rule (`domain::Op` outside the ONNX domain)', () => {
    expect([...covered].filter((op) => !ruled.has(op))).toEqual([]);
  });
});

/** The gradients of Σ y for each float64 input (all of one shape), at the given values. */
async function gradientsAt(inputs: Record<string, readonly number[]>, shape: readonly number[], build: (g: GraphBuilder, x: readonly Value[]) => Value): Promise<number[][]> {
  const g = new GraphBuilder('convention');
  const x = Object.keys(inputs).map((name) => g.input(name, 'float64', shape));
  const { gradients } = backward(g, g.op.ReduceSum(build(g, x), undefined, { keepdims: false }), x, { dense: true });
  x.forEach((v) => {
    const grad = gradients.get(v.name);
    if (grad?.kind !== 'dense') throw new Error(`no dense gradient for ${v.name}`);
    g.output(`grad.${v.name}`, grad.value);
  });
  const feeds = Object.fromEntries(Object.entries(inputs).map(([name, values]) => [name, tensorFromNumbers('float64', shape, values)]));
  const out = await runGraph(g.build(), feeds);
  return x.map((v) => numbers(out[`grad.${v.name}`], v.name));
}

// Finite differences say nothing at ties and kinks; these pin the conventions the rules document.
describe('gradients at ties and kinks', () => {
  it('Max and Min send a tie to the first input', async () => {
    expect(await gradientsAt({ a: [1, 2, 3], b: [1, 5, 3] }, [3], (g, x) => g.op.Max(nth(x, 0), nth(x, 1)))).toEqual([[1, 0, 1], [0, 1, 0]]);
    expect(await gradientsAt({ a: [1, 2, 3], b: [1, 5, 3] }, [3], (g, x) => g.op.Min(nth(x, 0), nth(x, 1)))).toEqual([[1, 1, 1], [0, 0, 0]]);
  });

  it('ReduceMax shares a tie equally', async () => {
    expect(await gradientsAt({ x: [1, 3, 3, 2] }, [4], (g, x) => g.op.ReduceMax(nth(x, 0), [0]))).toEqual([[0, 0.5, 0.5, 0]]);
  });

  it('Relu has gradient 0 at 0', async () => {
    expect(await gradientsAt({ x: [-1, 0, 1] }, [3], (g, x) => g.op.Relu(nth(x, 0)))).toEqual([[0, 0, 1]]);
  });
});

describe('serialization of optional inputs', () => {
  // ONNX Runtime counts an empty trailing input name as present: Squeeze would fail "Axes input is null" and
  // LayerNormalization without B would crash the process.
  it('writes no empty trailing inputs for omitted optional inputs', () => {
    const g = new GraphBuilder('trailing');
    const x = g.input('x', 'float32', [1, 3, 4]);
    const scale = g.input('scale', 'float32', [4]);
    g.output('y', nth(g.op.LayerNormalization(x, scale, null), 0));
    g.output('z', g.op.Squeeze(x));
    const nodes = toModelProto(g.build()).graph?.node ?? [];
    for (const node of nodes) expect(node.input?.at(-1), `${node.name} (${node.opType})`).not.toBe('');
  });
});
