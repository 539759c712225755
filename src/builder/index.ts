// Public API of the graph builder.
export * as attr from './attributes.ts';
export { DEFAULT_OPSETS, GraphBuilder, type NodeOptions } from './builder.ts';
export { GraphBuildError } from './errors.ts';
export { MICROSOFT_DOMAIN, ONNX_DOMAIN } from './infer/index.ts';
export { type Operand, Ops } from './ops.ts';
export { type DenseWeight, denseWeight } from './dense-layer.ts';
export { rewriteGraph, rewriteInto, Rewriter } from './rewrite.ts';
export { serialize, type SerializeOptions, toModelProto } from './serialize.ts';
