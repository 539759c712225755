// The student's encoder shape, from a preset and/or sizes, against its teacher, and how it will be initialized:
// copied from the teacher (same hidden size: layers picked by a map, heads and FFN neurons cut down), or built
// fresh (a smaller hidden size: the embeddings projected by truncated SVD, the rest initialized; or every weight
// random). Every refusal happens here, before any weight is touched, and names the flag at fault.
import { type PresetName, preset } from '../../checkpoint/presets.ts';
import { XlmtError } from '../../errors/index.ts';
import { type EncoderConfig, encoderConfig, layerShapes } from '../../models/config.ts';

/** What the caller asks for; every size left out comes from the preset, else from the teacher. */
export interface StudentShapeSpec {
  readonly preset?: PresetName;
  readonly layers?: number;
  readonly hidden?: number;
  readonly heads?: number;
  readonly ffn?: number;
}

/**
 * 'teacher': copy or project what the teacher's weights give (a narrower student: the embeddings by truncated SVD,
 * the layers initialized); 'select': every weight a slice of the teacher's, a narrower student's hidden coordinates
 * too (student-select.ts); 'random': every weight initialized as for a new model.
 */
export const STUDENT_WEIGHTS = ['teacher', 'select', 'random'] as const;
export type StudentWeights = (typeof STUDENT_WEIGHTS)[number];

export interface StudentOptions {
  /** Default 'teacher'. */
  readonly weights?: StudentWeights;
  /** Student layer i starts as teacher layer layerMap[i]; default evenly spread (see defaultLayerMap). */
  readonly layerMap?: readonly number[];
  /** Seed of every freshly initialized weight. Default 42. */
  readonly seed?: number;
}

/**
 * 'copy': the teacher's hidden size; heads or ffn undefined keep the mapped layers' own. 'fresh': a new config;
 * `project` when the teacher's embeddings are compressed into it (a smaller hidden size, weights 'teacher').
 */
export type StudentPlan =
  | { readonly kind: 'copy'; readonly layerMap: readonly number[]; readonly heads?: number; readonly ffn?: number }
  | { readonly kind: 'fresh'; readonly config: EncoderConfig; readonly project: boolean }
  | { readonly kind: 'select'; readonly config: EncoderConfig; readonly layerMap: readonly number[]; readonly heads: number; readonly ffn: number };

/**
 * Evenly spread from layer 0, as `prune layers --strategy alternate` keeps them (12 → 6: 0, 2, 4, 6, 8, 10),
 * which is DistilBERT's initialization (one layer out of two; Sanh et al., 2019). Not prune layers' default of
 * dropping the top layers: that default is for a pruned model fine-tuned without a teacher (Sajjad et al.),
 * while a student is then taught layer by layer against teacher layers spread evenly over the depth (the uniform
 * --match of intermediate-layer transfer), so each student layer starts from a teacher layer near the one it
 * will learn from, and the top student layer from the upper part of the teacher rather than its middle.
 */
export function defaultLayerMap(teacherLayers: number, studentLayers: number): number[] {
  return Array.from({ length: studentLayers }, (_, i) => Math.floor((i * teacherLayers) / studentLayers));
}

interface Sized {
  readonly value: number;
  /** The flag the value came from, for errors. */
  readonly field: string;
}

/** Checks the request against the teacher and decides how each part of the student is made. */
export function planStudent(teacher: EncoderConfig, spec: StudentShapeSpec, options: StudentOptions = {}): StudentPlan {
  const weights = options.weights ?? 'teacher';
  const fromPreset = spec.preset === undefined ? undefined : preset(spec.preset).config.encoder;
  const pick = (given: number | undefined, flag: string, presetValue: number | undefined): Sized | undefined => {
    if (given !== undefined) return { value: checkCount(given, flag), field: flag };
    return presetValue === undefined ? undefined : { value: presetValue, field: '--preset' };
  };
  const mapLength = options.layerMap === undefined ? undefined : { value: options.layerMap.length, field: '--layer-map' };
  const layers = pick(spec.layers, '--layers', fromPreset?.numHiddenLayers) ?? mapLength ?? { value: teacher.numHiddenLayers, field: '--layers' };
  const hidden = pick(spec.hidden, '--hidden', fromPreset?.hiddenSize) ?? { value: teacher.hiddenSize, field: '--hidden' };
  const heads = pick(spec.heads, '--heads', fromPreset?.numAttentionHeads);
  const ffn = pick(spec.ffn, '--ffn', fromPreset?.intermediateSize);

  if (weights !== 'random' && hidden.value === teacher.hiddenSize) return copyPlan(teacher, layers, heads, ffn, options.layerMap);
  if (weights === 'select') return selectPlan(teacher, layers, hidden, heads, ffn, options.layerMap);
  if (options.layerMap !== undefined) {
    const why = weights === 'random' ? 'with --weights random nothing is copied' : `the student's hidden size ${hidden.value} differs from the teacher's ${teacher.hiddenSize}, so no layer can be copied`;
    throw new XlmtError({ code: 'BAD_OPTION', message: `--layer-map picks teacher layers to copy, but ${why}`, where: { field: '--layer-map' }, hint: 'leave out --layer-map, or give the teacher\'s hidden size to copy its layers' });
  }
  if (weights === 'teacher' && hidden.value > teacher.hiddenSize) {
    throw new XlmtError({
      code: 'BAD_OPTION', message: 'a student wider than its teacher: truncated SVD compresses the teacher\'s embeddings, it cannot widen them',
      where: { field: hidden.field }, expected: `a hidden size of at most ${teacher.hiddenSize}`, received: String(hidden.value),
      hint: 'give a smaller hidden size, or --weights random for a student initialized from scratch',
    });
  }
  const headCount = heads ?? derivedHeads(teacher, hidden);
  if (hidden.value % headCount.value !== 0) {
    throw new XlmtError({
      code: 'BAD_OPTION', message: `${headCount.value} attention heads do not divide the hidden size ${hidden.value}`,
      where: { field: headCount.field }, expected: `a divisor of ${hidden.value}`, received: String(headCount.value),
      hint: 'choose --hidden and --heads so that the heads divide the hidden size (e.g. 256 and 4 or 8)',
    });
  }
  const config = narrowerConfig(teacher, layers.value, hidden.value, headCount.value, ffn?.value ?? derivedFfn(teacher, hidden.value));
  return { kind: 'fresh', config, project: weights === 'teacher' };
}

/** The FFN width of a narrower student: the teacher's ratio to the hidden size. */
const derivedFfn = (teacher: EncoderConfig, hidden: number): number => Math.max(1, Math.round((hidden * teacher.intermediateSize) / teacher.hiddenSize));

function narrowerConfig(teacher: EncoderConfig, layers: number, hidden: number, heads: number, ffn: number): EncoderConfig {
  return encoderConfig({
    vocabSize: teacher.vocabSize, maxPositionEmbeddings: teacher.maxPositionEmbeddings, typeVocabSize: teacher.typeVocabSize,
    layerNormEps: teacher.layerNormEps, hiddenDropoutProb: teacher.hiddenDropoutProb, attentionProbsDropoutProb: teacher.attentionProbsDropoutProb,
    hiddenSize: hidden, numHiddenLayers: layers, numAttentionHeads: heads, intermediateSize: ffn,
  });
}

/**
 * A narrower student sliced from the teacher: its layers copied by the map and cut to its heads and FFN neurons
 * (copyPlan's checks), then every hidden axis cut. The heads keep the teacher's head size, so that a copied head's
 * query, key and value rows are whole: the student's heads times that size must be its hidden size.
 */
function selectPlan(teacher: EncoderConfig, layers: Sized, hidden: Sized, heads: Sized | undefined, ffn: Sized | undefined, given: readonly number[] | undefined): StudentPlan {
  if (hidden.value > teacher.hiddenSize) {
    throw new XlmtError({
      code: 'BAD_OPTION', message: 'a student wider than its teacher: --weights select slices the teacher\'s weights, it cannot widen them',
      where: { field: hidden.field }, expected: `a hidden size of at most ${teacher.hiddenSize}`, received: String(hidden.value),
      hint: 'give a smaller hidden size, or --weights random for a student initialized from scratch',
    });
  }
  const headSize = teacher.hiddenSize / teacher.numAttentionHeads;
  const headCount = heads ?? { value: hidden.value / headSize, field: '--heads' };
  if (!Number.isInteger(headCount.value) || headCount.value * headSize !== hidden.value) {
    throw new XlmtError({
      code: 'BAD_OPTION',
      message: heads
        ? `--weights select keeps whole teacher heads of size ${headSize}: ${headCount.value} of them are not the hidden size ${hidden.value}`
        : `--weights select keeps whole teacher heads of size ${headSize}: the hidden size ${hidden.value} is not a whole number of them`,
      where: { field: heads ? headCount.field : hidden.field }, expected: `a hidden size that is a multiple of ${headSize}, with that many heads of ${headSize}`, received: `${hidden.value} hidden, ${headCount.value} heads`,
      hint: `e.g. --hidden ${headSize * Math.max(1, Math.round(hidden.value / headSize))} and no --heads, or --weights teacher`,
    });
  }
  const ffnSize = ffn ?? { value: derivedFfn(teacher, hidden.value), field: '--ffn' };
  const copy = copyPlan(teacher, layers, headCount, ffnSize, given);
  const config = narrowerConfig(teacher, layers.value, hidden.value, headCount.value, ffnSize.value);
  return { kind: 'select', config, layerMap: copy.layerMap, heads: headCount.value, ffn: ffnSize.value };
}

/** A narrower student keeps the teacher's head size when it can (384/12 → 256/8), else its head count. */
function derivedHeads(teacher: EncoderConfig, hidden: Sized): Sized {
  const headSize = teacher.hiddenSize / teacher.numAttentionHeads;
  const value = hidden.value % headSize === 0 ? hidden.value / headSize : teacher.numAttentionHeads;
  return { value, field: '--heads' };
}

function copyPlan(teacher: EncoderConfig, layers: Sized, heads: Sized | undefined, ffn: Sized | undefined, given: readonly number[] | undefined): Extract<StudentPlan, { kind: 'copy' }> {
  if (layers.value > teacher.numHiddenLayers) {
    throw new XlmtError({
      code: 'BAD_OPTION', message: `the student would copy ${layers.value} layers from a teacher that has ${teacher.numHiddenLayers}`,
      where: { field: layers.field }, expected: `at most ${teacher.numHiddenLayers} layers`, received: String(layers.value),
      hint: 'give fewer layers, a smaller hidden size (nothing is copied then), or --weights random',
    });
  }
  const layerMap = given === undefined ? defaultLayerMap(teacher.numHiddenLayers, layers.value) : checkLayerMap(given, layers.value, teacher.numHiddenLayers);
  const shapes = layerShapes(teacher);
  for (const [student, from] of layerMap.entries()) {
    const shape = shapes[from];
    if (!shape) continue;
    if (heads && heads.value > shape.heads.length) {
      throw new XlmtError({
        code: 'BAD_OPTION', message: `teacher layer ${from} (student layer ${student}) has ${shape.heads.length} attention heads; a copy can keep fewer, not add any`,
        where: { field: heads.field }, expected: `at most ${shape.heads.length} heads`, received: String(heads.value),
        hint: 'give fewer heads, or a smaller hidden size to build the attention afresh',
      });
    }
    if (ffn && ffn.value > shape.intermediateSize) {
      throw new XlmtError({
        code: 'BAD_OPTION', message: `teacher layer ${from} (student layer ${student}) has ${shape.intermediateSize} FFN neurons; a copy can keep fewer, not add any`,
        where: { field: ffn.field }, expected: `at most ${shape.intermediateSize}`, received: String(ffn.value),
      });
    }
  }
  return { kind: 'copy', layerMap, ...(heads ? { heads: heads.value } : {}), ...(ffn ? { ffn: ffn.value } : {}) };
}

/** One teacher layer per student layer, ascending and unique (keepLayers copies them in order). */
function checkLayerMap(map: readonly number[], layers: number, teacherLayers: number): number[] {
  const where = { field: '--layer-map' };
  if (map.length !== layers) {
    throw new XlmtError({ code: 'BAD_OPTION', message: `the layer map has ${map.length} entries for a student of ${layers} layers`, where, expected: `${layers} teacher layers, one per student layer`, received: map.join(',') });
  }
  map.forEach((layer, i) => {
    if (!Number.isInteger(layer) || layer < 0 || layer >= teacherLayers) {
      throw new XlmtError({ code: 'BAD_OPTION', message: `the teacher has no layer ${layer}`, where, expected: `layer indices in 0…${teacherLayers - 1}`, received: map.join(',') });
    }
    if (i > 0 && layer <= (map[i - 1] as number)) {
      throw new XlmtError({ code: 'BAD_OPTION', message: 'the layer map must go up: each student layer copies a teacher layer above the previous one', where, expected: 'ascending, unique teacher layers', received: map.join(',') });
    }
  });
  return [...map];
}

function checkCount(value: number, flag: string): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new XlmtError({ code: 'BAD_OPTION', message: `${flag} must be a positive integer`, where: { field: flag }, expected: 'a positive integer', received: String(value) });
  }
  return value;
}
