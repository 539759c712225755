// Serialization of the graph IR to an ONNX ModelProto (protobuf bytes) through the onnx-proto package.
import onnxProto from 'onnx-proto';
import { ONNX_ELEM_TYPE } from '../ir/dtype.ts';
import type { Attribute, Graph, Value } from '../ir/graph.ts';
import type { ParamStore } from '../ir/params.ts';
import type { TensorData } from '../ir/tensor.ts';

const { onnx } = onnxProto;

export interface SerializeOptions {
  /**
   * Where parameters go: graph inputs fed on every run (training), or initializers holding these values
   * (inference export). Default: inputs.
   */
  readonly params?: ParamStore;
  readonly producer?: string;
}

function tensorProto(name: string, t: TensorData): onnxProto.onnx.ITensorProto {
  const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  return { name, dims: [...t.shape], dataType: ONNX_ELEM_TYPE[t.dtype], rawData: bytes };
}

function valueInfo(v: Value): onnxProto.onnx.IValueInfoProto {
  return {
    name: v.name,
    type: {
      tensorType: {
        elemType: ONNX_ELEM_TYPE[v.dtype],
        shape: { dim: v.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function attributeProto(name: string, a: Attribute): onnxProto.onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  switch (a.type) {
    case 'int': return { name, type: T.INT, i: a.value };
    case 'float': return { name, type: T.FLOAT, f: a.value };
    case 'string': return { name, type: T.STRING, s: new TextEncoder().encode(a.value) };
    case 'ints': return { name, type: T.INTS, ints: [...a.value] };
    case 'floats': return { name, type: T.FLOATS, floats: [...a.value] };
    case 'tensor': return { name, type: T.TENSOR, t: tensorProto('', a.value) };
  }
}

export function toModelProto(graph: Graph, options: SerializeOptions = {}): onnxProto.onnx.IModelProto {
  const paramInitializers: onnxProto.onnx.ITensorProto[] = [];
  if (options.params) {
    for (const p of graph.params) {
      const stored = options.params.get(p.name);
      if (!stored) throw new Error(`serialize ${graph.name}: no value for parameter ${p.name}`);
      paramInitializers.push(tensorProto(p.name, { dtype: 'float32', shape: stored.shape, data: stored.data }));
    }
  }
  const usedDomains = new Set(graph.nodes.map((n) => n.domain));
  return {
    irVersion: 8,
    producerName: options.producer ?? 'xlmt',
    opsetImport: Object.entries(graph.opsets)
      .filter(([domain]) => domain === '' || usedDomains.has(domain))
      .map(([domain, version]) => ({ domain, version })),
    graph: {
      name: graph.name,
      input: [...graph.inputs, ...(options.params ? [] : graph.params)].map(valueInfo),
      output: graph.outputs.map(valueInfo),
      initializer: [
        ...graph.constants.map((c) => tensorProto(c.name, c.data ?? missingData(c))),
        ...paramInitializers,
      ],
      node: graph.nodes.map((n) => ({
        name: n.name,
        opType: n.opType,
        domain: n.domain,
        input: inputNames(n.inputs),
        output: n.outputs.map((v) => v.name),
        attribute: Object.entries(n.attributes).map(([k, a]) => attributeProto(k, a)),
      })),
    },
  };
}

export function serialize(graph: Graph, options: SerializeOptions = {}): Uint8Array {
  return onnx.ModelProto.encode(onnx.ModelProto.create(toModelProto(graph, options))).finish();
}

/** Input names with omitted optional inputs as '' in the middle and dropped at the end, as ONNX requires. */
function inputNames(inputs: readonly (Value | null)[]): string[] {
  const names = inputs.map((v) => v?.name ?? '');
  while (names.length > 0 && names[names.length - 1] === '') names.pop();
  return names;
}

function missingData(v: Value): never {
  throw new Error(`constant ${v.name} has no data`);
}
