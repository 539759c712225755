// The distillation losses in a training graph: backward reaches the student's weights and the projections
// through every term, and one step runs in ONNX Runtime with finite gradients.
import { describe, expect, it } from 'vitest';
import { trainingGraph } from '../../../src/autodiff/training-graph.ts';
import { GraphBuilder } from '../../../src/builder/index.ts';
import { hiddenStateTransferLoss } from '../../../src/compress/distill/hidden-mse.ts';
import { ATTENTION_RELATIONS, attentionRelationLoss } from '../../../src/compress/distill/relation-kl.ts';
import { isDistillationParam, projectionParam, teacherHiddenInput, teacherProjectionInput } from '../../../src/compress/distill/names.ts';
import { dropoutMasks } from '../../../src/models/dropout.ts';
import { encoderStates } from '../../../src/models/encoder.ts';
import { initParams } from '../../../src/models/init.ts';
import { encoderInputs } from '../../../src/models/multitask.ts';
import { mulberry32 } from '../../autodiff/gradcheck.ts';
import { f32Rows, paddedBatch, randomRows, runOnce, studentConfig, teacherConfig } from './encoders.ts';

describe('intermediate-layer transfer in a training graph', () => {
  function build(): ReturnType<typeof trainingGraph> {
    const g = new GraphBuilder('distill_train');
    const inputs = encoderInputs(g);
    const student = { config: studentConfig, states: encoderStates(g, studentConfig, inputs, { training: true }) };
    const hidden = hiddenStateTransferLoss(g, student, teacherConfig, [{ student: 1, teacher: 2 }, { student: 2, teacher: 3 }], inputs.attentionMask);
    const relations = attentionRelationLoss(g, student, teacherConfig, [{ student: 2, teacher: 3 }], inputs.attentionMask, { relationHeads: 2 });
    return trainingGraph(g, { loss: g.op.Add(hidden, relations) });
  }

  it('gives every parameter on the path a gradient, the projections included', () => {
    const t = build();
    expect([...t.gradients.keys()]).toEqual(expect.arrayContaining([
      projectionParam(1, 'weight'), projectionParam(2, 'bias'),
      'encoder.layer.1.attention.self.query.weight', 'encoder.layer.1.attention.self.key.weight', 'encoder.layer.1.attention.self.value.weight',
      'embeddings.word_embeddings.weight',
    ]));
    expect(t.unreachable).toEqual([]);
  });

  it('runs one step with finite gradients', async () => {
    const t = build();
    const rng = mulberry32(51);
    const { feeds, mask } = paddedBatch([4, 2], 4, rng);
    const rows = mask.flat().length;
    feeds[teacherHiddenInput(2)] = f32Rows(randomRows(rng, rows, 12));
    feeds[teacherHiddenInput(3)] = f32Rows(randomRows(rng, rows, 12));
    for (const r of ATTENTION_RELATIONS) feeds[teacherProjectionInput(r, 3)] = f32Rows(randomRows(rng, rows, 12));
    Object.assign(feeds, dropoutMasks(t.graph, { batch: 2, seq: 4 }, 1, 0));
    const out = await runOnce(t.graph, feeds, initParams(t.graph, 9, 0.2));
    expect(Number(out[t.loss]?.data[0])).toBeGreaterThan(0);
    for (const [param, grad] of t.gradients) {
      if (grad.kind !== 'dense') continue;
      const values = out[grad.name]?.data as Float32Array;
      expect(values.every(Number.isFinite), param).toBe(true);
      if (isDistillationParam(param)) expect(values.some((v) => v !== 0), param).toBe(true);
    }
  });
});
