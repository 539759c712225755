// Finds the special tokens (pad, cls/<s>, sep/</s>, unk, mask) of a tokenizer.json: post-processor first, then
// the model's unk, the padding settings, and finally the conventional BERT / XLM-R spellings.
import { z } from 'zod';

export type SpecialRole = 'pad' | 'cls' | 'sep' | 'unk' | 'mask';
export const SPECIAL_ROLES: readonly SpecialRole[] = ['pad', 'cls', 'sep', 'unk', 'mask'];

export interface SpecialToken {
  readonly token: string;
  readonly id: number;
}

/** `null` where the tokenizer has no such token; `TextTokenizer.special(role)` turns that into an error. */
export type SpecialTokens = Readonly<Record<SpecialRole, SpecialToken | null>>;

/** BERT spelling first, then XLM-R / RoBERTa (cls is also <s> = bos, sep is also </s> = eos). */
export const CONVENTIONAL_NAMES: Readonly<Record<SpecialRole, readonly string[]>> = {
  pad: ['[PAD]', '<pad>'],
  cls: ['[CLS]', '<s>', '<cls>'],
  sep: ['[SEP]', '</s>', '<sep>'],
  unk: ['[UNK]', '<unk>'],
  mask: ['[MASK]', '<mask>'],
};

/** The parts of tokenizer.json that name special tokens; everything else (vocab, merges…) is left to the binding. */
export const tokenizerHeader = z.object({
  model: z.object({
    unk_token: z.string().nullish(),
    unk_id: z.number().int().nullish(),
  }),
  post_processor: z.unknown().optional(),
  padding: z.object({ pad_id: z.number().int(), pad_token: z.string() }).nullish(),
});
export type TokenizerHeader = z.infer<typeof tokenizerHeader>;

const pair = z.tuple([z.string(), z.number().int()]);
const bertLikeProcessor = z.object({ type: z.enum(['BertProcessing', 'RobertaProcessing']), sep: pair, cls: pair });
const templatePiece = z.union([
  z.object({ SpecialToken: z.object({ id: z.string() }) }),
  z.object({ Sequence: z.object({ id: z.string() }) }),
]);
const templateProcessor = z.object({
  type: z.literal('TemplateProcessing'),
  single: z.array(templatePiece),
  special_tokens: z.record(z.string(), z.object({ ids: z.array(z.number().int()), tokens: z.array(z.string()) })),
});
const sequenceProcessor = z.object({ type: z.literal('Sequence'), processors: z.array(z.unknown()) });

interface Framing {
  cls: SpecialToken | null;
  sep: SpecialToken | null;
}

/** What the post-processor puts before and after a single sequence: [CLS] … [SEP], <s> … </s>, or nothing. */
export function framingOf(processor: unknown): Framing {
  const bertLike = bertLikeProcessor.safeParse(processor);
  if (bertLike.success) {
    const { cls, sep } = bertLike.data;
    return { cls: { token: cls[0], id: cls[1] }, sep: { token: sep[0], id: sep[1] } };
  }
  const template = templateProcessor.safeParse(processor);
  if (template.success) return templateFraming(template.data);
  const sequence = sequenceProcessor.safeParse(processor);
  if (sequence.success) {
    // A Sequence chains processors (e.g. ByteLevel offsets + Template); the first one that frames wins.
    const framings = sequence.data.processors.map(framingOf);
    return {
      cls: framings.find((f) => f.cls !== null)?.cls ?? null,
      sep: framings.find((f) => f.sep !== null)?.sep ?? null,
    };
  }
  return { cls: null, sep: null };
}

function templateFraming(template: z.infer<typeof templateProcessor>): Framing {
  const single = template.single;
  const firstSequence = single.findIndex((p) => 'Sequence' in p);
  const lastSequence = single.findLastIndex((p) => 'Sequence' in p);
  const lookup = (piece: z.infer<typeof templatePiece> | undefined): SpecialToken | null => {
    if (piece === undefined || !('SpecialToken' in piece)) return null;
    const entry = template.special_tokens[piece.SpecialToken.id];
    const id = entry?.ids[0];
    return id === undefined ? null : { token: entry?.tokens[0] ?? piece.SpecialToken.id, id };
  };
  if (firstSequence < 0) return { cls: null, sep: null };
  return { cls: lookup(single[firstSequence - 1]), sep: lookup(single[lastSequence + 1]) };
}

interface Vocabulary {
  tokenToId(token: string): number | null;
  idToToken(id: number): string | null;
}

export function discoverSpecialTokens(header: TokenizerHeader, vocab: Vocabulary): SpecialTokens {
  const byName = (role: SpecialRole): SpecialToken | null => {
    for (const token of CONVENTIONAL_NAMES[role]) {
      const id = vocab.tokenToId(token);
      if (id !== null) return { token, id };
    }
    return null;
  };
  const framing = framingOf(header.post_processor ?? null);
  return {
    pad: header.padding ? { token: header.padding.pad_token, id: header.padding.pad_id } : byName('pad'),
    cls: framing.cls ?? byName('cls'),
    sep: framing.sep ?? byName('sep'),
    unk: modelUnk(header, vocab) ?? byName('unk'),
    mask: byName('mask'),
  };
}

/** WordPiece/BPE/WordLevel name their unk token; Unigram gives its id. */
function modelUnk(header: TokenizerHeader, vocab: Vocabulary): SpecialToken | null {
  const { unk_token: token, unk_id: id } = header.model;
  if (typeof token === 'string') {
    const tokenId = vocab.tokenToId(token);
    if (tokenId !== null) return { token, id: tokenId };
  }
  if (typeof id === 'number') {
    const idToken = vocab.idToToken(id);
    if (idToken !== null) return { token: idToken, id };
  }
  return null;
}

/** Where discovery looked, for "no pad token" errors. */
export function searchedFor(role: SpecialRole): string {
  const names = CONVENTIONAL_NAMES[role].join(', ');
  switch (role) {
    case 'pad':
      return `padding.pad_token and the tokens ${names}`;
    case 'cls':
    case 'sep':
      return `the post-processor (BertProcessing, RobertaProcessing, TemplateProcessing) and the tokens ${names}`;
    case 'unk':
      return `model.unk_token / model.unk_id and the tokens ${names}`;
    case 'mask':
      return `the tokens ${names}`;
  }
}
