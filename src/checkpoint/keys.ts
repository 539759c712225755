// Matching a checkpoint's tensors to a graph's parameters: prefixes and legacy names resolved, every tensor
// accounted for (loaded, missing or unexpected), shapes and dtypes checked before any data is converted.
import type { Parameter } from '../ir/params.ts';
import { formatShape, isStatic, type Shape } from '../ir/shape.ts';
import { FLOAT_DTYPES, type SafetensorsDType, toFloat32 } from './dtype.ts';
import { CheckpointError } from './errors.ts';
import type { SafeTensor } from './safetensors.ts';

/** What a graph needs: its parameters' names (Hugging Face's, without the base-model prefix) and shapes. */
export interface ExpectedParam {
  readonly name: string;
  readonly shape: Shape;
}

export interface MapOptions {
  /** Expected parameters that may be absent from the checkpoint, to be initialized fresh (e.g. /^classifier\./). */
  readonly allowMissing?: readonly (string | RegExp)[];
  /** Names the checkpoint (its file or directory) in errors. */
  readonly source?: string;
  /**
   * The task whose head a transformers *ForSequenceClassification checkpoint holds: its `classifier.*` tensors
   * load as `heads.<task>.*`. Without it they load only into a graph that has `classifier.*` parameters.
   */
  readonly classifierTask?: string;
}

export interface LoadedTensor {
  /** The parameter's name in the graph. */
  readonly name: string;
  /** The tensor's name in the checkpoint, e.g. `bert.embeddings.LayerNorm.gamma`. */
  readonly key: string;
  /** The dtype stored in the file; parameters are always Float32. */
  readonly dtype: SafetensorsDType;
  /** False when the parameter's data is a view of the file's bytes (aligned F32). */
  readonly copied: boolean;
}

/** Why a tensor went unused, so a reader of the report can tell the expected leftovers from a real mismatch. */
export type UnexpectedKind = 'pretraining-head' | 'pooler' | 'buffer' | 'task-head' | 'other';

export interface UnexpectedTensor {
  readonly key: string;
  readonly dtype: SafetensorsDType;
  readonly shape: readonly number[];
  readonly kind: UnexpectedKind;
}

export interface KeyReport {
  readonly loaded: readonly LoadedTensor[];
  /** Expected parameters absent from the checkpoint that `allowMissing` let through. */
  readonly missing: readonly string[];
  /** Checkpoint tensors no expected parameter used. */
  readonly unexpected: readonly UnexpectedTensor[];
}

export interface MappedCheckpoint {
  /** Loaded parameters only (a ParamStore); the caller initializes the missing ones. */
  readonly params: Map<string, Parameter>;
  readonly report: KeyReport;
}

const MISSING = ': missing from the checkpoint';

/** Raised when any expected parameter cannot be loaded; `issues` has one line per parameter. */
export class KeyMismatchError extends CheckpointError {
  constructor(
    source: string,
    readonly issues: readonly string[],
  ) {
    const lines = [`checkpoint does not fit the graph (${issues.length} problem${issues.length === 1 ? '' : 's'}):`, ...issues.map((i) => `  ${i}`)];
    const hint = issues.some((i) => i.endsWith(MISSING)) ? 'parameters that may start fresh (a new classifier head) can be listed in allowMissing' : undefined;
    super({ code: 'KEY_MISMATCH', file: source, problem: lines.join('\n'), ...(hint === undefined ? {} : { hint }), details: { issues: [...issues] } });
    this.name = 'KeyMismatchError';
  }
}

// Base-model attribute names of transformers' task models: BertFor* nests BertModel under `bert`, RobertaFor* and
// XLMRobertaFor* under `roberta`. `xlm_roberta.` appears in some converted checkpoints.
const BASE_PREFIXES = ['bert.', 'roberta.', 'xlm_roberta.'];

/**
 * RoBERTa and XLM-R call the masked-LM head `lm_head` (dense, layer_norm, bias); the graph uses BERT's
 * `cls.predictions` names for the same layers. The decoder weight is tied to the word embeddings in both.
 */
export const LM_HEAD_ALIASES: readonly (readonly [roberta: string, bert: string])[] = [
  ['lm_head.dense.', 'cls.predictions.transform.dense.'],
  ['lm_head.layer_norm.', 'cls.predictions.transform.LayerNorm.'],
  ['lm_head.bias', 'cls.predictions.bias'],
];

/**
 * A checkpoint key as the graph names it: the base-model prefix removed, TF-era LayerNorm `gamma`/`beta` renamed
 * `weight`/`bias` (as transformers does when loading), and RoBERTa's `lm_head` given BERT's names.
 */
export function canonicalName(key: string): string {
  const prefix = BASE_PREFIXES.find((p) => key.startsWith(p));
  let name = prefix ? key.slice(prefix.length) : key;
  name = name.replace(/((?:^|\.)(?:LayerNorm|layer_norm))\.gamma$/, '$1.weight').replace(/((?:^|\.)(?:LayerNorm|layer_norm))\.beta$/, '$1.bias');
  for (const [roberta, bert] of LM_HEAD_ALIASES) {
    if (roberta.endsWith('.') ? name.startsWith(roberta) : name === roberta) return bert + name.slice(roberta.length);
  }
  return name;
}

/** transformers' single classification head, `classifier.*`, named as the head of `task`. */
export const CLASSIFIER_PREFIX = 'classifier.';
export const taskHeadPrefix = (task: string): string => `heads.${task}.`;

function asTaskHead(name: string, task: string | undefined): string {
  return task !== undefined && name.startsWith(CLASSIFIER_PREFIX) ? taskHeadPrefix(task) + name.slice(CLASSIFIER_PREFIX.length) : name;
}

export function unexpectedKind(name: string): UnexpectedKind {
  if (name.startsWith('cls.') || name.startsWith('lm_head.')) return 'pretraining-head';
  if (name.startsWith('pooler.')) return 'pooler';
  if (/(^|\.)(position_ids|token_type_ids)$/.test(name)) return 'buffer';
  if (/^(classifier|heads|qa_outputs)\./.test(name)) return 'task-head';
  return 'other';
}

/**
 * Loads the expected parameters from checkpoint tensors. Exact names win; otherwise a tensor matches through
 * canonicalName. Head tensors (classifier.*, heads.*, cls.predictions.*) load only when the graph expects the
 * same names. Throws
 * KeyMismatchError listing every missing (and not allowed), mis-shaped, non-float or doubly-matched parameter.
 */
export function mapCheckpoint(expected: readonly ExpectedParam[], tensors: ReadonlyMap<string, SafeTensor>, options: MapOptions = {}): MappedCheckpoint {
  const source = options.source ?? 'checkpoint';
  const wanted = new Map<string, ExpectedParam>();
  for (const p of expected) {
    if (wanted.has(p.name)) throw new CheckpointError({ code: 'BAD_ARGUMENT', file: source, problem: `expected parameter ${JSON.stringify(p.name)} is listed twice` });
    wanted.set(p.name, p);
  }
  const issues: string[] = [];
  const keyFor = new Map<string, string>(); // graph name → checkpoint key
  for (const key of tensors.keys()) {
    const name = wanted.has(key) ? key : asTaskHead(canonicalName(key), options.classifierTask);
    if (!wanted.has(name)) continue;
    const other = keyFor.get(name);
    if (other !== undefined) issues.push(`${name}: both ${JSON.stringify(other)} and ${JSON.stringify(key)} map to it`);
    else keyFor.set(name, key);
  }
  const missing: string[] = [];
  for (const p of wanted.values()) {
    const key = keyFor.get(p.name);
    const tensor = key === undefined ? undefined : tensors.get(key);
    if (key === undefined || tensor === undefined) {
      if (isAllowed(p.name, options.allowMissing)) missing.push(p.name);
      else issues.push(`${p.name}${MISSING}`);
      continue;
    }
    const keyText = key === p.name ? '' : ` (as ${JSON.stringify(key)})`;
    if (!isStatic(p.shape)) issues.push(`${p.name}: the graph's shape ${formatShape(p.shape)} is symbolic; parameters need static shapes`);
    else if (!sameShape(p.shape, tensor.shape)) issues.push(`${p.name}${keyText}: shape mismatch, graph ${formatShape(p.shape)}, checkpoint ${formatShape(tensor.shape)}`);
    if (!FLOAT_DTYPES.includes(tensor.dtype)) issues.push(`${p.name}${keyText}: dtype ${tensor.dtype} cannot load as a float32 parameter (float dtypes: ${FLOAT_DTYPES.join(', ')})`);
  }
  if (issues.length > 0) throw new KeyMismatchError(source, issues);

  const params = new Map<string, Parameter>();
  const loaded: LoadedTensor[] = [];
  for (const [name, key] of keyFor) {
    const tensor = tensors.get(key);
    if (!tensor) continue;
    const { data, shared } = toFloat32(tensor.dtype, tensor.bytes);
    params.set(name, { name, shape: [...tensor.shape], data });
    loaded.push({ name, key, dtype: tensor.dtype, copied: !shared });
  }
  const used = new Set(keyFor.values());
  const unexpected: UnexpectedTensor[] = [];
  for (const [key, t] of tensors) {
    if (!used.has(key)) unexpected.push({ key, dtype: t.dtype, shape: t.shape, kind: unexpectedKind(canonicalName(key)) });
  }
  return { params, report: { loaded, missing, unexpected } };
}

function isAllowed(name: string, allow: readonly (string | RegExp)[] | undefined): boolean {
  return (allow ?? []).some((a) => (typeof a === 'string' ? a === name : a.test(name)));
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** A few lines for a log: counts, converted dtypes, what starts fresh and what was left unused, by kind. */
export function formatKeyReport(report: KeyReport): string {
  const lines: string[] = [];
  const converted = new Map<string, number>();
  for (const l of report.loaded) if (l.dtype !== 'F32') converted.set(l.dtype, (converted.get(l.dtype) ?? 0) + 1);
  const conversions = [...converted].map(([d, n]) => `${n} from ${d}`).join(', ');
  lines.push(`loaded ${report.loaded.length} tensors${conversions ? ` (converted to F32: ${conversions})` : ''}`);
  if (report.missing.length > 0) lines.push(`missing, initialized fresh: ${report.missing.join(', ')}`);
  const byKind = new Map<UnexpectedKind, string[]>();
  for (const u of report.unexpected) byKind.set(u.kind, [...(byKind.get(u.kind) ?? []), u.key]);
  for (const [kind, keys] of byKind) lines.push(`unused (${kind}): ${keys.join(', ')}`);
  return lines.join('\n');
}
