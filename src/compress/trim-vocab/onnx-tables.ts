// The vocabulary tables of an exported ONNX graph, and the graph with only their kept rows. A table is an
// initializer whose rows are looked up by the token ids: the data of a Gather whose indices are `input_ids`
// (through Cast, Identity or a reshape), or the word embedding of ONNX Runtime's EmbedLayerNormalization. Every
// such table is cut, so an int8 export's per-row scales, gathered beside the int8 rows, are cut with them.
import onnxProto from 'onnx-proto';
import { XlmtError } from '../../errors/index.ts';
import { INPUT_IDS } from '../../infer/contract.ts';
import { gatherRows, type IdMap } from './id-map.ts';

const { onnx } = onnxProto;
type TensorProto = onnxProto.onnx.ITensorProto;
type NodeProto = onnxProto.onnx.INodeProto;

/** Ops that pass token ids on unchanged in value (a cast, or another shape of the same ids). */
const SAME_IDS = new Set(['Cast', 'Identity', 'Reshape', 'Unsqueeze', 'Squeeze', 'Flatten']);

/** Bytes per element of ONNX element types, for raw_data. */
const ELEMENT_BYTES: Readonly<Record<number, number>> = { 1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 16: 2 };

export interface VocabTables {
  readonly model: onnxProto.onnx.ModelProto;
  /** The tables' initializer names, in graph order. */
  readonly names: readonly string[];
  /** Their common first dimension: the model's vocabulary rows. */
  readonly rows: number;
}

export function readOnnxModel(bytes: Uint8Array, source: string): onnxProto.onnx.ModelProto {
  try {
    return onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new XlmtError({ code: 'BAD_MODEL', where: { file: source }, message: `not an ONNX model: ${(e as Error).message}` }, { cause: e });
  }
}

/** Finds the tables; a table that is not a plain initializer, or that something else also reads, is refused. */
export function findVocabTables(model: onnxProto.onnx.ModelProto, source: string): VocabTables {
  const graph = model.graph ?? {};
  const nodes = graph.node ?? [];
  const initializers = new Map((graph.initializer ?? []).map((t) => [t.name ?? '', t]));
  const idValues = new Set([INPUT_IDS]);
  for (const node of nodes) {
    const input = node.input?.[0];
    if (SAME_IDS.has(node.opType ?? '') && input !== undefined && idValues.has(input)) idValues.add(node.output?.[0] ?? '');
  }
  const lookups = new Map<string, NodeProto[]>();
  for (const node of nodes) {
    const table = tableOf(node, idValues);
    if (table !== null) lookups.set(table, [...(lookups.get(table) ?? []), node]);
  }
  if (lookups.size === 0) {
    throw new XlmtError({ code: 'BAD_MODEL', where: { file: source }, message: `no initializer of the graph is looked up by ${INPUT_IDS}`, expected: `a Gather (or EmbedLayerNormalization) reading the rows of a table at ${INPUT_IDS}`, hint: 'trim-vocab takes export directories written by xlmt export' });
  }
  let rows = -1;
  for (const [name, readers] of lookups) {
    const tensor = initializers.get(name);
    const dims = (tensor?.dims ?? []).map(Number);
    if (!tensor || dims.length === 0) {
      throw new XlmtError({ code: 'UNSUPPORTED', where: { file: source, node: readers[0]?.name ?? '', tensor: name }, message: 'the table looked up by the token ids is computed, not stored as an initializer, so its rows cannot be cut' });
    }
    if (rows >= 0 && dims[0] !== rows) {
      throw new XlmtError({ code: 'BAD_MODEL', where: { file: source, tensor: name }, message: 'tables looked up by the same token ids have different row counts', expected: `${rows} rows`, received: `${dims[0]} rows` });
    }
    rows = dims[0] as number;
    const other = nodes.find((n) => !readers.includes(n) && (n.input ?? []).includes(name));
    if (other) {
      throw new XlmtError({ code: 'UNSUPPORTED', where: { file: source, node: other.name ?? '', tensor: name }, message: `the table looked up by the token ids is also read by a ${other.opType} node; cutting its rows would change that node` });
    }
  }
  return { model, names: [...lookups.keys()], rows };
}

/** The table a node looks up by token id, or null. */
function tableOf(node: NodeProto, idValues: ReadonlySet<string>): string | null {
  const inputs = node.input ?? [];
  const domain = node.domain ?? '';
  if (node.opType === 'Gather' && (domain === '' || domain === 'ai.onnx') && idValues.has(inputs[1] ?? '')) return inputs[0] ?? null;
  if (node.opType === 'EmbedLayerNormalization' && domain === 'com.microsoft' && idValues.has(inputs[0] ?? '')) return inputs[2] ?? null;
  return null;
}

/** The model with each table's kept rows, re-encoded. */
export function trimTables(tables: VocabTables, map: IdMap, source: string): Uint8Array {
  const graph = tables.model.graph ?? {};
  const names = new Set(tables.names);
  for (const tensor of graph.initializer ?? []) {
    if (names.has(tensor.name ?? '')) cutRows(tensor, tables.rows, map, source);
  }
  // Shapes the file states for the tables (an optimized graph may list initializers as inputs or value infos).
  for (const info of [...(graph.input ?? []), ...(graph.valueInfo ?? [])]) {
    const first = info.type?.tensorType?.shape?.dim?.[0];
    if (names.has(info.name ?? '') && first) first.dimValue = map.size;
  }
  return onnx.ModelProto.encode(tables.model).finish();
}

function cutRows(tensor: TensorProto, rows: number, map: IdMap, source: string): void {
  if (tensor.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    throw new XlmtError({ code: 'UNSUPPORTED', where: { file: source, tensor: tensor.name ?? '' }, message: 'the table is stored in an external data file', hint: 'give a self-contained model.onnx, as xlmt export writes' });
  }
  const dims = (tensor.dims ?? []).map(Number);
  if (tensor.rawData && tensor.rawData.byteLength > 0) {
    const size = ELEMENT_BYTES[tensor.dataType ?? 0];
    const elements = dims.reduce((a, b) => a * b, 1);
    if (size === undefined || tensor.rawData.byteLength !== elements * size) {
      throw new XlmtError({ code: 'BAD_TENSOR', where: { file: source, tensor: tensor.name ?? '' }, message: 'the table\'s bytes do not match its shape and element type', expected: `${elements} elements of type ${tensor.dataType}`, received: `${tensor.rawData.byteLength} bytes` });
    }
    tensor.rawData = gatherRows(tensor.rawData, rows, map);
  } else {
    // Values in the typed fields: one entry per element (no complex types in a vocabulary table).
    const cut = <T>(values: readonly T[]): T[] => {
      const perRow = values.length / rows;
      return Array.from(map.newToOld).flatMap((old) => values.slice(old * perRow, (old + 1) * perRow));
    };
    if (tensor.floatData?.length) tensor.floatData = cut(tensor.floatData);
    else if (tensor.int32Data?.length) tensor.int32Data = cut(tensor.int32Data);
    else if (tensor.int64Data?.length) tensor.int64Data = cut(tensor.int64Data);
    else if (tensor.doubleData?.length) tensor.doubleData = cut(tensor.doubleData);
    else if (tensor.uint64Data?.length) tensor.uint64Data = cut(tensor.uint64Data);
    else throw new XlmtError({ code: 'BAD_TENSOR', where: { file: source, tensor: tensor.name ?? '' }, message: 'the table holds no data' });
  }
  tensor.dims = [map.size, ...dims.slice(1)];
}
