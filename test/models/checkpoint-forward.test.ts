// A Hugging Face checkpoint written to disk, loaded back and run as an ONNX graph, matches a naive forward pass.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/builder/index.ts';
import { hfModelConfig, loadHfModel, mapCheckpoint, saveHfModel } from '../../src/checkpoint/index.ts';
import { encoderConfig } from '../../src/models/config.ts';
import { encoder } from '../../src/models/encoder.ts';
import { initParams } from '../../src/models/init.ts';
import { encoderInputs } from '../../src/models/multitask.ts';
import { Session } from '../../src/runtime/session.ts';
import { positionIds } from '../../src/tokenize/index.ts';
import { naiveEncode } from './naive-bert.ts';

const config = encoderConfig({
  vocabSize: 50, hiddenSize: 16, numHiddenLayers: 2, numAttentionHeads: 4, intermediateSize: 24,
  maxPositionEmbeddings: 20, typeVocabSize: 1, layerNormEps: 1e-5,
});

describe.each([
  { modelType: 'bert' as const, padTokenId: 0 },
  { modelType: 'xlm-roberta' as const, padTokenId: 1 },
])('$modelType checkpoint', ({ modelType, padTokenId }) => {
  it('round-trips through model.safetensors and matches the naive forward pass, padding included', async () => {
    const g = new GraphBuilder('encoder');
    const hidden = encoder(g, config, encoderInputs(g), { training: false });
    g.output('hidden', hidden);
    const graph = g.build();
    const original = initParams(graph, 3, 0.3);
    // Non-trivial LayerNorm parameters, so a gamma/beta mix-up would show.
    for (const [name, p] of original) if (name.includes('LayerNorm')) p.data.forEach((_, i) => { p.data[i] = (name.endsWith('weight') ? 1 : 0) + 0.1 * Math.sin(i + name.length); });

    const dir = mkdtempSync(join(tmpdir(), 'xlmt-ckpt-'));
    const hf = hfModelConfig(config, { modelType, padTokenId });
    await saveHfModel(dir, { config: hf, params: original });
    const loaded = await loadHfModel(dir);
    expect(loaded.config.modelType).toBe(modelType);
    const { params, report } = mapCheckpoint(graph.params.map((p) => ({ name: p.name, shape: p.shape as number[] })), loaded.tensors, { source: dir });
    expect(report.missing).toEqual([]);
    expect(report.unexpected).toEqual([]);
    for (const [name, p] of original) expect(params.get(name)?.data, name).toEqual(p.data);

    // Two sequences, the second padded after 4 tokens.
    const batch = 2;
    const seq = 6;
    const ids = [5, 17, 33, 8, 41, 2, 7, 9, 12, 3, padTokenId, padTokenId];
    const mask = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0];
    const inputIds = BigInt64Array.from(ids.map(BigInt));
    const positions = positionIds({ batch, seq, inputIds }, hf.positions === 'roberta' ? { convention: 'roberta', paddingIdx: padTokenId } : { convention: 'bert' });
    const session = await Session.create(graph, { threads: 1 });
    const out = await session.run({
      input_ids: { dtype: 'int64', shape: [batch, seq], data: inputIds },
      position_ids: { dtype: 'int64', shape: [batch, seq], data: positions },
      token_type_ids: { dtype: 'int64', shape: [batch, seq], data: new BigInt64Array(batch * seq) },
      attention_mask: { dtype: 'float32', shape: [batch, seq], data: Float32Array.from(mask) },
    }, params);
    const got = out.hidden?.data as Float32Array;
    const weights = new Map([...params].map(([k, p]) => [k, p.data]));
    const naiveConfig = { hidden: 16, layers: 2, heads: 4, ffn: 24, eps: 1e-5 };
    let worst = 0;
    for (let b = 0; b < batch; b++) {
      const row = (xs: readonly number[]): number[] => xs.slice(b * seq, (b + 1) * seq);
      const expected = naiveEncode(weights, naiveConfig, row(ids), row(Array.from(positions, Number)), row(mask));
      expected.forEach((token, t) => {
        if (!mask[b * seq + t]) return; // padded positions' states are not used downstream
        token.forEach((v, h) => { worst = Math.max(worst, Math.abs(v - (got[(b * seq + t) * 16 + h] as number))); });
      });
    }
    expect(worst).toBeLessThan(2e-5);
  });
});
