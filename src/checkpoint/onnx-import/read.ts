// An ONNX file as the importer reads it: nodes with their producers and consumers, and constant tensors, folded
// through the few ops exporters put between an initializer and its use (Identity, Cast, Transpose, Reshape,
// Unsqueeze, Squeeze, DequantizeLinear). No onnxruntime here: this is plain protobuf data.
import { readFile } from 'node:fs/promises';
import onnxProto from 'onnx-proto';
import { XlmtError } from '../../errors/index.ts';
import { halfToFloat } from '../dtype.ts';

const { onnx } = onnxProto;

export interface OnnxNode {
  readonly name: string;
  readonly opType: string;
  readonly domain: string;
  /** Value names; '' for an omitted optional input. */
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attributes: ReadonlyMap<string, onnxProto.onnx.IAttributeProto>;
}

/** A constant's values: float types as float32, integer types as float64 (exact for every index and shape). */
export interface ConstTensor {
  readonly shape: readonly number[];
  /** ONNX element type (1 float, 2 uint8, 3 int8, 6 int32, 7 int64, 10 float16, …). */
  readonly elemType: number;
  readonly data: Float32Array | Float64Array;
}

export interface GraphInput {
  readonly name: string;
  readonly elemType: number;
}

const INT8 = 3;
const UINT8 = 2;

export class OnnxGraph {
  readonly nodes: readonly OnnxNode[];
  readonly inputs: readonly GraphInput[];
  readonly outputs: readonly string[];
  private readonly producers = new Map<string, OnnxNode>();
  private readonly consumerLists = new Map<string, OnnxNode[]>();
  private readonly initializers = new Map<string, onnxProto.onnx.ITensorProto>();
  private readonly folded = new Map<string, ConstTensor | null>();

  constructor(readonly source: string, readonly proto: onnxProto.onnx.IModelProto) {
    const graph = proto.graph ?? {};
    for (const t of graph.initializer ?? []) this.initializers.set(t.name ?? '', t);
    this.nodes = (graph.node ?? []).map((n, i) => ({
      name: n.name || `${n.opType ?? 'node'}_${i}`,
      opType: n.opType ?? '',
      domain: n.domain === 'ai.onnx' ? '' : (n.domain ?? ''),
      inputs: n.input ?? [],
      outputs: n.output ?? [],
      attributes: new Map((n.attribute ?? []).map((a) => [a.name ?? '', a])),
    }));
    for (const node of this.nodes) {
      for (const out of node.outputs) this.producers.set(out, node);
      for (const input of node.inputs) if (input) this.consumerLists.set(input, [...(this.consumerLists.get(input) ?? []), node]);
    }
    this.inputs = (graph.input ?? [])
      .filter((v) => !this.initializers.has(v.name ?? ''))
      .map((v) => ({ name: v.name ?? '', elemType: v.type?.tensorType?.elemType ?? 0 }));
    this.outputs = (graph.output ?? []).map((v) => v.name ?? '');
  }

  static async read(path: string): Promise<OnnxGraph> {
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'FILE_NOT_FOUND' : 'IO_FAILED';
      throw new XlmtError({ code, where: { file: path }, message: `cannot read the ONNX file: ${(e as Error).message}` }, { cause: e });
    }
    let proto: onnxProto.onnx.ModelProto;
    try {
      proto = onnx.ModelProto.decode(bytes);
    } catch (e) {
      throw new XlmtError({ code: 'UNSUPPORTED', where: { file: path }, message: `not an ONNX model: ${(e as Error).message}` }, { cause: e });
    }
    if (!proto.graph || (proto.graph.node ?? []).length === 0) {
      throw new XlmtError({ code: 'UNSUPPORTED', where: { file: path }, message: 'not an ONNX model: no graph nodes', hint: 'weights stored in external data files are not read; give a self-contained .onnx file' });
    }
    return new OnnxGraph(path, proto);
  }

  producer(value: string): OnnxNode | undefined {
    return this.producers.get(value);
  }

  consumers(value: string): readonly OnnxNode[] {
    return this.consumerLists.get(value) ?? [];
  }

  isInitializer(value: string): boolean {
    return this.initializers.has(value);
  }

  /** The value's tensor when it is a constant (initializer, Constant node, or foldable ops of constants). */
  constant(value: string): ConstTensor | undefined {
    if (!value) return undefined;
    if (!this.folded.has(value)) {
      this.folded.set(value, null); // a cycle (never in a valid graph) folds to nothing
      this.folded.set(value, this.fold(value) ?? null);
    }
    return this.folded.get(value) ?? undefined;
  }

  int(node: OnnxNode, name: string, fallback: number): number {
    const a = node.attributes.get(name);
    return a?.i === undefined || a.i === null ? fallback : Number(a.i);
  }

  /** A float attribute, as the shortest decimal that is the same float32 (1e-5, not 9.999999747378752e-6). */
  float(node: OnnxNode, name: string, fallback: number): number {
    const a = node.attributes.get(name);
    return a?.f === undefined || a.f === null ? fallback : shortestFloat32(a.f);
  }

  string(node: OnnxNode, name: string): string | undefined {
    const s = node.attributes.get(name)?.s;
    return s ? new TextDecoder().decode(s) : undefined;
  }

  private fold(value: string): ConstTensor | undefined {
    const init = this.initializers.get(value);
    if (init) return decodeTensor(init, this.source);
    const node = this.producers.get(value);
    if (!node) return undefined;
    if (node.opType === 'Constant') {
      const a = node.attributes.get('value') ?? node.attributes.get('value_float') ?? node.attributes.get('value_ints') ?? node.attributes.get('value_int');
      if (a?.t) return decodeTensor(a.t, this.source);
      if (a?.f !== undefined && a.f !== null && node.attributes.has('value_float')) return { shape: [], elemType: 1, data: Float32Array.of(a.f) };
      if (node.attributes.has('value_int')) return { shape: [], elemType: 7, data: Float64Array.of(Number(a?.i ?? 0)) };
      if (a?.ints) return { shape: [a.ints.length], elemType: 7, data: Float64Array.from(a.ints, Number) };
      return undefined;
    }
    const x = this.constant(node.inputs[0] ?? '');
    if (!x) return undefined;
    switch (node.opType) {
      case 'Identity': return x;
      case 'Cast': {
        const to = this.int(node, 'to', 1);
        return { shape: x.shape, elemType: to, data: to === 1 || to === 10 || to === 11 ? Float32Array.from(x.data) : Float64Array.from(x.data, Math.trunc) };
      }
      case 'Transpose': return x.shape.length === 2 ? transpose2d(x) : undefined;
      case 'Reshape': case 'Unsqueeze': case 'Squeeze': return this.reshaped(node, x);
      case 'DequantizeLinear': return this.dequantize(node, x);
      default: return undefined;
    }
  }

  private reshaped(node: OnnxNode, x: ConstTensor): ConstTensor | undefined {
    const size = x.data.length;
    if (node.opType === 'Squeeze') return { ...x, shape: x.shape.filter((d) => d !== 1) };
    if (node.opType === 'Unsqueeze') {
      const axes = this.constant(node.inputs[1] ?? '')?.data ?? node.attributes.get('axes')?.ints?.map(Number);
      if (!axes) return undefined;
      const shape = [...x.shape];
      for (const a of [...axes].map((v) => (v < 0 ? v + shape.length + axes.length : v)).sort((p, q) => p - q)) shape.splice(a, 0, 1);
      return { ...x, shape };
    }
    const target = this.constant(node.inputs[1] ?? '');
    if (!target) return undefined;
    const dims = [...target.data].map((d, i) => (d === 0 ? (x.shape[i] ?? 1) : d));
    const known = dims.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
    return { ...x, shape: dims.map((d) => (d === -1 ? size / known : d)) };
  }

  /** (q − zero point) · scale, per tensor or along `axis`; int8 and uint8 codes. */
  private dequantize(node: OnnxNode, q: ConstTensor): ConstTensor | undefined {
    const scale = this.constant(node.inputs[1] ?? '');
    const zero = this.constant(node.inputs[2] ?? '');
    if (!scale || (q.elemType !== INT8 && q.elemType !== UINT8)) return undefined;
    const axis = this.int(node, 'axis', 1);
    return { shape: q.shape, elemType: 1, data: dequantizeAlong(q, scale.data, zero?.data, axis < 0 ? axis + q.shape.length : axis) };
  }
}

/** (q − zero) · scale with one scale per tensor or one per index of `axis`. */
export function dequantizeAlong(q: ConstTensor, scale: ArrayLike<number>, zero: ArrayLike<number> | undefined, axis: number): Float32Array {
  const out = new Float32Array(q.data.length);
  const inner = q.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const along = q.shape[axis] ?? 1;
  for (let i = 0; i < out.length; i++) {
    const c = scale.length === 1 ? 0 : Math.floor(i / inner) % along;
    out[i] = ((q.data[i] as number) - (zero?.[c] ?? 0)) * (scale[c] as number);
  }
  return out;
}

export function shortestFloat32(x: number): number {
  for (let digits = 1; digits < 9; digits++) {
    const decimal = Number(x.toPrecision(digits));
    if (Math.fround(decimal) === Math.fround(x)) return decimal;
  }
  return x;
}

export function transpose2d(x: ConstTensor): ConstTensor {
  const [rows, cols] = x.shape as [number, number];
  const out = x.data instanceof Float32Array ? new Float32Array(x.data.length) : new Float64Array(x.data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = x.data[r * cols + c] as number;
  return { shape: [cols, rows], elemType: x.elemType, data: out };
}

function decodeTensor(t: onnxProto.onnx.ITensorProto, source: string): ConstTensor {
  const shape = (t.dims ?? []).map(Number);
  const size = shape.reduce((a, b) => a * b, 1);
  const elemType = t.dataType ?? 0;
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    throw new XlmtError({ code: 'UNSUPPORTED', where: { file: source, tensor: t.name ?? '' }, message: 'the tensor is stored in an external data file', hint: 'save the model with its weights inside (onnx.save_model(m, path, save_as_external_data=False)), at most 2 GB' });
  }
  const raw = t.rawData && t.rawData.length > 0 ? t.rawData : null;
  const view = raw ? new DataView(raw.buffer, raw.byteOffset, raw.byteLength) : null;
  const floats = (read: (i: number) => number): Float32Array => Float32Array.from({ length: size }, (_, i) => read(i));
  const ints = (read: (i: number) => number): Float64Array => Float64Array.from({ length: size }, (_, i) => read(i));
  switch (elemType) {
    case 1: return { shape, elemType, data: view ? floats((i) => view.getFloat32(4 * i, true)) : Float32Array.from(t.floatData ?? []) };
    case 10: return { shape, elemType, data: view ? floats((i) => halfToFloat(view.getUint16(2 * i, true))) : Float32Array.from(t.int32Data ?? [], halfToFloat) };
    case 11: return { shape, elemType, data: view ? floats((i) => view.getFloat64(8 * i, true)) : Float32Array.from(t.doubleData ?? []) };
    case UINT8: return { shape, elemType, data: view ? ints((i) => view.getUint8(i)) : Float64Array.from(t.int32Data ?? []) };
    case INT8: return { shape, elemType, data: view ? ints((i) => view.getInt8(i)) : Float64Array.from(t.int32Data ?? []) };
    case 6: return { shape, elemType, data: view ? ints((i) => view.getInt32(4 * i, true)) : Float64Array.from(t.int32Data ?? []) };
    case 7: return { shape, elemType, data: view ? ints((i) => Number(view.getBigInt64(8 * i, true))) : Float64Array.from(t.int64Data ?? [], Number) };
    case 9: return { shape, elemType, data: view ? ints((i) => view.getUint8(i)) : Float64Array.from(t.int32Data ?? []) };
    default: return { shape, elemType, data: new Float64Array(0) }; // never a weight; folded values are checked by size
  }
}
