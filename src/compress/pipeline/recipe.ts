// `xlmt compress`'s recipe: the steps that take a teacher to a served model, in order, each a compression pass
// xlmt has as its own command. JSON or YAML; a bad recipe is refused naming the step (by number and name) and field.
//
//   prune-layers     { keepCount | keepFraction, strategy } or { keep }        xlmt prune layers
//   prune-heads-ffn  { heads, ffn, method, iterations, samples, even }         xlmt prune heads-ffn (on --train)
//   prune-hidden     { keep | keepFraction, method, samples }                   xlmt prune hidden (on --train)
//                    { rounds, retrain }: in rounds, each cut trained on with the teacher (pipeline/narrow.ts)
//   trim-vocab       { minCount }                                               xlmt trim-vocab (on --train)
//   init-student     { preset } or { layers, hidden, heads, ffn }, { weights }  xlmt init-student (from the model so far)
//   train            { teacher, settings }: xlmt train from the model so far; teacher: true adds --teacher-model
//                    the pipeline's teacher (Eq. 2); settings: xlmt train's configuration fields (qat included)
//   distill          { settings }: xlmt distill from the model so far, the pipeline's teacher teaching
//   export           { int8, perChannel, static }: xlmt export; the last step when present
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { PRESET_NAMES } from '../../checkpoint/index.ts';
import { STUDENT_WEIGHTS } from '../distill/student-shape.ts';
import { HIDDEN_METHODS } from '../prune/hidden.ts';
import { XlmtError } from '../../errors/index.ts';

const int = z.number().int().positive();
const named = { name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lowercase letters, digits and dashes').optional() };

const StepSchema = z.discriminatedUnion('step', [
  z.strictObject({
    step: z.literal('prune-layers'), ...named, keep: z.array(z.number().int().min(0)).min(1).optional(), keepCount: int.optional(),
    keepFraction: z.number().gt(0).lt(1).optional(), strategy: z.enum(['top', 'bottom', 'alternate']).default('top'),
  }).refine((s) => [s.keep, s.keepCount, s.keepFraction].filter((x) => x !== undefined).length === 1, { message: 'give one of keep, keepCount, keepFraction' }),
  z.strictObject({
    step: z.literal('prune-heads-ffn'), ...named, heads: int.optional(), ffn: int.optional(), method: z.enum(['importance', 'random']).default('importance'),
    iterations: int.default(4), samples: int.default(1000), even: z.boolean().default(false),
  }).refine((s) => s.heads !== undefined || s.ffn !== undefined, { message: 'give heads, ffn or both' }),
  z.strictObject({
    step: z.literal('prune-hidden'), ...named, keep: int.optional(), keepFraction: z.number().gt(0).lt(1).optional(), method: z.enum(HIDDEN_METHODS).default('activation'),
    samples: int.default(2000), rounds: int.default(1), retrain: z.record(z.string(), z.unknown()).optional(),
  }).refine((s) => (s.keep === undefined) !== (s.keepFraction === undefined), { message: 'give one of keep, keepFraction' })
    .refine((s) => s.retrain === undefined || s.rounds > 1, { message: 'retrain is read only with rounds above 1 (training between the cuts)', path: ['retrain'] }),
  z.strictObject({ step: z.literal('trim-vocab'), ...named, minCount: int.default(1) }),
  z.strictObject({ step: z.literal('init-student'), ...named, preset: z.enum(PRESET_NAMES).optional(), layers: int.optional(), hidden: int.optional(), heads: int.optional(), ffn: int.optional(), weights: z.enum(STUDENT_WEIGHTS).optional() })
    .refine((s) => Object.keys(s).some((k) => ['preset', 'layers', 'hidden', 'heads', 'ffn'].includes(k)), { message: 'give a preset or some of layers, hidden, heads, ffn' }),
  z.strictObject({ step: z.literal('train'), ...named, teacher: z.boolean().default(false), settings: z.record(z.string(), z.unknown()).default({}) }),
  z.strictObject({ step: z.literal('distill'), ...named, settings: z.record(z.string(), z.unknown()).default({}) }),
  z.strictObject({
    step: z.literal('export'), ...named, int8: z.boolean().default(true), perChannel: z.boolean().default(true),
    static: z.strictObject({ calibration: z.string().min(1), method: z.enum(['minmax', 'percentile', 'entropy']).optional(), rows: int.optional() }).optional(),
  }),
]);

export const RecipeSchema = z.strictObject({ steps: z.array(StepSchema).min(1) });

export type Step = z.infer<typeof StepSchema>;
export type Recipe = z.infer<typeof RecipeSchema>;
export type StepKind = Step['step'];

/** A step's name: its own, or its kind. */
export const stepName = (s: Step): string => s.name ?? s.step;

/** The presets: the paper's two choices and a small fast one (docs/compress.md says what each does and why). */
export const PRESETS: Readonly<Record<string, unknown>> = {
  // Half the depth and the heads and FFN by importance, one epoch with the teacher, int8: minutes on the demo data.
  small: {
    steps: [
      { step: 'prune-layers', keepFraction: 0.5 },
      { step: 'train', name: 'retrain', teacher: true, settings: { epochs: 1 } },
      { step: 'export', int8: true },
    ],
  },
  // The paper's MiniLM-L12 choice: a 12-layer × 384 student of the teacher, distilled, fp32.
  'paper-l12': {
    steps: [
      { step: 'init-student', layers: 12, hidden: 384 },
      { step: 'distill', settings: { stages: ['logits', 'unfreeze', 'finetune'] } },
      { step: 'export', int8: false },
    ],
  },
  // The paper's MiniLM-L6 int8 choice: a 6-layer × 384 student, distilled, trained with QAT, exported int8.
  'paper-l6-int8': {
    steps: [
      { step: 'init-student', layers: 6, hidden: 384 },
      { step: 'distill', settings: { stages: ['logits', 'unfreeze', 'finetune'] } },
      { step: 'train', name: 'qat', teacher: true, settings: { qat: 'ema', epochs: 1 } },
      { step: 'export', int8: true },
    ],
  },
};

export const PRESET_RECIPES = Object.keys(PRESETS);

/** A recipe object validated; `origin` names its file or preset in errors. */
export function parseRecipe(input: unknown, origin: string): Recipe {
  const parsed = RecipeSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path ?? [];
    const index = path[0] === 'steps' && typeof path[1] === 'number' ? path[1] : undefined;
    const raw = index === undefined ? undefined : (input as { steps?: unknown[] }).steps?.[index];
    const label = raw && typeof raw === 'object' ? ((raw as { name?: unknown; step?: unknown }).name ?? (raw as { step?: unknown }).step) : undefined;
    const field = path.slice(index === undefined ? 0 : 2).join('.');
    throw new XlmtError({
      code: 'CONFIG_INVALID',
      where: { file: origin, ...(field ? { field: index === undefined ? field : `steps[${index}].${field}` } : index !== undefined ? { field: `steps[${index}]` } : {}) },
      message: `${index === undefined ? '' : `step ${index + 1}${typeof label === 'string' ? ` (${label})` : ''}: `}${issue?.message ?? 'invalid recipe'}`,
      hint: `the steps and their fields are listed in docs/compress.md ("xlmt compress"); steps: ${StepSchema.options.map((o) => o.shape.step.value).join(', ')}`,
    });
  }
  const recipe = parsed.data;
  const exportAt = recipe.steps.findIndex((s) => s.step === 'export');
  if (exportAt >= 0 && exportAt !== recipe.steps.length - 1) {
    throw new XlmtError({ code: 'CONFIG_INVALID', where: { file: origin, field: `steps[${exportAt}]` }, message: `step ${exportAt + 1} (export): an export is the last step`, hint: 'move the export to the end: every other step reads a model directory' });
  }
  const names = recipe.steps.map(stepName);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice !== undefined) {
    throw new XlmtError({ code: 'CONFIG_INVALID', where: { file: origin, field: 'steps' }, message: `two steps are named ${twice}`, hint: 'give one of them a name of its own ("name": "retrain-2")' });
  }
  return recipe;
}

/** A recipe file (JSON, or YAML for .yaml / .yml) or a preset by name. */
export function loadRecipe(source: { readonly file: string } | { readonly preset: string }): Recipe {
  if ('preset' in source) {
    const preset = PRESETS[source.preset];
    if (preset === undefined) {
      throw new XlmtError({ code: 'BAD_OPTION', where: { field: '--preset' }, message: `no preset ${JSON.stringify(source.preset)}`, expected: PRESET_RECIPES.join(', ') });
    }
    return parseRecipe(preset, `preset ${source.preset}`);
  }
  let text: string;
  try {
    text = readFileSync(source.file, 'utf8');
  } catch (e) {
    throw new XlmtError({ code: 'FILE_NOT_FOUND', where: { file: source.file, field: '--recipe' }, message: `cannot read the recipe: ${(e as Error).message}` }, { cause: e });
  }
  let value: unknown;
  try {
    value = /\.ya?ml$/i.test(source.file) ? parseYaml(text) : JSON.parse(text);
  } catch (e) {
    throw new XlmtError({ code: 'CONFIG_INVALID', where: { file: source.file }, message: `not ${/\.ya?ml$/i.test(source.file) ? 'YAML' : 'JSON'}: ${(e as Error).message}` }, { cause: e });
  }
  return parseRecipe(value, source.file);
}
