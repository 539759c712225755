// NaN and Inf in a checkpoint are refused when it is read, naming the file, the tensor and the element, for every
// float dtype; integer tensors whose bits look like NaN are left alone.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { firstNonFinite } from '../../src/checkpoint/dtype.ts';
import { hfModelConfig, loadHfModel, parseSafetensors, readSafetensors, saveHfModel, type SafetensorsDType } from '../../src/checkpoint/index.ts';
import { encoderConfig } from '../../src/models/config.ts';
import { XlmtError } from '../../src/errors/index.ts';
import { craft, f32Bytes, tempDir, u16Bytes, writeBytes } from './helpers.ts';

const f64Bytes = (values: readonly number[]): number[] => [...new Uint8Array(Float64Array.from(values).buffer)];

function refusal(dtype: SafetensorsDType, shape: number[], data: number[]): XlmtError {
  const end = data.length;
  try {
    parseSafetensors(craft(`{"w":{"dtype":"${dtype}","shape":${JSON.stringify(shape)},"data_offsets":[0,${end}]}}`, data), 'model.safetensors');
  } catch (e) {
    if (e instanceof XlmtError) return e;
    throw e;
  }
  throw new Error('the tensor was accepted');
}

describe('reading a checkpoint refuses non-finite weights', () => {
  it.each([
    ['F32 NaN', 'F32', f32Bytes([0, 1, 2, NaN]), 'NaN', 3],
    ['F32 +Inf', 'F32', f32Bytes([Infinity, 0, 0, 0]), 'Infinity', 0],
    ['F32 -Inf', 'F32', f32Bytes([0, -Infinity, 0, 0]), '-Infinity', 1],
    ['F16 NaN', 'F16', u16Bytes([0x3c00, 0x3c00, 0x7e00, 0]), 'NaN', 2],
    ['F16 -Inf', 'F16', u16Bytes([0, 0, 0, 0xfc00]), '-Infinity', 3],
    ['BF16 +Inf', 'BF16', u16Bytes([0x3f80, 0x7f80, 0, 0]), 'Infinity', 1],
    ['BF16 NaN', 'BF16', u16Bytes([0xffc1, 0, 0, 0]), 'NaN', 0],
    ['F64 NaN', 'F64', f64Bytes([1, 2, 3, NaN]), 'NaN', 3],
    ['F64 beyond float32', 'F64', f64Bytes([1, 1e39, 3, 4]), '1e+39', 1],
  ] as const)('%s', (_, dtype, data, value, index) => {
    const e = refusal(dtype, [2, 2], [...data]);
    expect(e.code).toBe('NON_FINITE');
    expect(e.where).toEqual({ file: 'model.safetensors', tensor: 'w' });
    expect(e.details).toEqual({ index, element: [Math.floor(index / 2), index % 2], value });
    expect(e.message).toMatch(new RegExp(`^model\\.safetensors: tensor "w": element \\[${Math.floor(index / 2)}, ${index % 2}\\] is `));
    expect(e.message).toContain(`(expected finite weights; received ${value} at flat index ${index} of 4). The checkpoint was saved from a model that diverged`);
  });

  it('finds the value in a misaligned F32 tensor and in a scalar', () => {
    const header = '{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"b":{"dtype":"F32","shape":[2],"data_offsets":[1,9]}}';
    expect(() => parseSafetensors(craft(header, [9, ...f32Bytes([0.5, NaN])]), 'odd')).toThrow('odd: tensor "b": element [1] is NaN');
    expect(refusal('F32', [], f32Bytes([Infinity])).message).toMatch(/^model\.safetensors: tensor "w": element \[\] is Infinity/);
  });

  it('leaves integer tensors and the largest finite values alone', () => {
    const header = '{"i":{"dtype":"I32","shape":[1],"data_offsets":[0,4]},"h":{"dtype":"F16","shape":[1],"data_offsets":[4,6]},"f":{"dtype":"F32","shape":[1],"data_offsets":[6,10]}}';
    const file = parseSafetensors(craft(header, [...f32Bytes([NaN]), ...u16Bytes([0x7bff]), ...f32Bytes([3.4028234663852886e38])]), 'ok');
    expect([...file.tensors.keys()]).toEqual(['i', 'h', 'f']);
    expect(firstNonFinite('F64', Uint8Array.from(f64Bytes([-3.4028234663852886e38, 1e-300])))).toBe(-1);
    expect(firstNonFinite('U8', Uint8Array.from([0xff, 0xff]))).toBe(-1);
  });

  it('names the file on disk', async () => {
    const dir = await tempDir();
    const path = await writeBytes(dir, 'nan.safetensors', craft('{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', f32Bytes([NaN])));
    await expect(readSafetensors(path)).rejects.toMatchObject({ code: 'NON_FINITE', where: { file: path, tensor: 'w' } });
  });
});

describe('loading a model directory with a NaN or an Inf weight', () => {
  const encoder = encoderConfig({ vocabSize: 11, hiddenSize: 4, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 8, maxPositionEmbeddings: 10 });

  it.each([NaN, -Infinity])('refuses %s, naming model.safetensors and the tensor as saved', async (bad) => {
    const dir = await tempDir();
    const weight = Float32Array.from([0.5, 0.25, bad, 1]);
    const params = new Map([['encoder.layer.0.output.dense.bias', { name: 'encoder.layer.0.output.dense.bias', shape: [4], data: weight }]]);
    await saveHfModel(dir, { config: hfModelConfig(encoder, { modelType: 'bert' }), params });
    await expect(loadHfModel(dir)).rejects.toMatchObject({
      code: 'NON_FINITE',
      where: { file: join(dir, 'model.safetensors'), tensor: 'bert.encoder.layer.0.output.dense.bias' },
      details: { index: 2, element: [2], value: String(bad) },
    });
  });
});
