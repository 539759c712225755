// A tokenizer.json as trimming sees it: the token of every id, the ids of its special tokens, and the same file
// rewritten over the kept ids. Normalizer, pre-tokenizer and decoder hold no ids and stay as they are; the model
// (model-vocab.ts), the added tokens, the post-processor's special token ids and padding's pad_id are renumbered.
import { z } from 'zod';
import type { IdMap } from './id-map.ts';
import { modelVocab, type ModelVocab } from './model-vocab.ts';
import { TokenizerError } from '../../tokenize/errors.ts';
import type { TextTokenizer } from '../../tokenize/index.ts';

export interface TokenizerVocab {
  /** The file, for errors. */
  readonly source: string;
  readonly json: Readonly<Record<string, unknown>>;
  readonly model: ModelVocab;
  /** The token of each id: the model's vocabulary and the added tokens (undefined in a gap). */
  readonly tokens: readonly (string | undefined)[];
  /**
   * Ids of the special tokens: the special added tokens, the post-processor's, padding's, the model's unk, and
   * what TextTokenizer finds under the usual spellings ([MASK], <mask>…).
   */
  readonly specialIds: ReadonlySet<number>;
}

const addedToken = z.looseObject({ id: z.number().int().min(0), content: z.string(), special: z.boolean().optional() });
const addedTokens = z.array(addedToken).nullish();
const padding = z.looseObject({ pad_id: z.number().int().min(0) }).nullish();

/** The vocabulary of a loaded tokenizer (its JSON was checked when it loaded). */
export function readTokenizerVocab(tokenizer: TextTokenizer): TokenizerVocab {
  const source = tokenizer.source;
  const json = JSON.parse(tokenizer.json) as Record<string, unknown>;
  const model = modelVocab(json, source);
  const added = field(addedTokens, json, 'added_tokens', source) ?? [];
  const tokens: (string | undefined)[] = [];
  for (const [token, id] of model.ids) tokens[id] = token;
  for (const t of added) tokens[t.id] = t.content;
  const specialIds = new Set<number>(added.filter((t) => t.special === true).map((t) => t.id));
  mapProcessorIds(json['post_processor'], (id) => {
    specialIds.add(id);
    return id;
  });
  const pad = field(padding, json, 'padding', source);
  if (pad) specialIds.add(pad.pad_id);
  if (model.unkId !== null) specialIds.add(model.unkId);
  for (const special of Object.values(tokenizer.specialTokens)) if (special) specialIds.add(special.id);
  return { source, json, model, tokens, specialIds };
}

/** The tokenizer.json text over the kept ids of `map`. */
export function trimmedTokenizerJson(vocab: TokenizerVocab, map: IdMap): string {
  const { json, source } = vocab;
  const added = field(addedTokens, json, 'added_tokens', source);
  const pad = field(padding, json, 'padding', source);
  const trimmed: Record<string, unknown> = {
    ...json,
    ...(added ? { added_tokens: added.filter((t) => map.newId(t.id) >= 0).map((t) => ({ ...t, id: map.newId(t.id) })) } : {}),
    post_processor: mapProcessorIds(json['post_processor'], (id) => map.keptId(id, 'a post-processor special token')),
    ...(pad ? { padding: { ...pad, pad_id: map.keptId(pad.pad_id, 'the padding token') } } : {}),
    model: vocab.model.rewrite(map),
  };
  return JSON.stringify(trimmed);
}

function field<T extends z.ZodType>(schema: T, json: Readonly<Record<string, unknown>>, name: string, source: string): z.infer<T> {
  const parsed = schema.safeParse(json[name]);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new TokenizerError({ code: 'TOKENIZER_INVALID', message: `unexpected ${name}: ${issue?.message ?? 'wrong shape'}`, where: { file: source, field: [name, ...(issue?.path ?? [])].join('.') } });
}

/**
 * The post-processor with every special token id passed through `f`: BertProcessing and RobertaProcessing
 * (`cls`, `sep` as [token, id]), TemplateProcessing (`special_tokens.*.ids`) and Sequence (each member).
 * Others (ByteLevel) hold no ids and come back as they are.
 */
export function mapProcessorIds(processor: unknown, f: (id: number) => number): unknown {
  if (typeof processor !== 'object' || processor === null || Array.isArray(processor)) return processor;
  const p = processor as Record<string, unknown>;
  switch (p['type']) {
    case 'BertProcessing':
    case 'RobertaProcessing':
      return { ...p, sep: mapPair(p['sep'], f), cls: mapPair(p['cls'], f) };
    case 'TemplateProcessing': {
      const specials = p['special_tokens'];
      if (typeof specials !== 'object' || specials === null) return p;
      const entries = Object.entries(specials as Record<string, unknown>).map(([name, entry]) => {
        const e = entry as { ids?: unknown };
        return [name, Array.isArray(e.ids) ? { ...(entry as object), ids: e.ids.map((id) => (typeof id === 'number' ? f(id) : id)) } : entry];
      });
      return { ...p, special_tokens: Object.fromEntries(entries) };
    }
    case 'Sequence':
      return Array.isArray(p['processors']) ? { ...p, processors: p['processors'].map((q) => mapProcessorIds(q, f)) } : p;
    default:
      return p;
  }
}

function mapPair(pair: unknown, f: (id: number) => number): unknown {
  return Array.isArray(pair) && pair.length === 2 && typeof pair[1] === 'number' ? [pair[0], f(pair[1])] : pair;
}
