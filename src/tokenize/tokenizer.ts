// TextTokenizer: a typed wrapper over one Hugging Face tokenizer.json (WordPiece, Unigram, BPE… whatever the
// `tokenizers` binding reads) that encodes batches straight into model-ready typed arrays.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { checkEncodeOptions, packRows, paddedLength, type EncodedBatch, type EncodedRow, type EncodeOptions } from './batch.ts';
import { toXlmtError } from '../errors/index.ts';
import { preview, reason, TokenizerError } from './errors.ts';
import { encodeTexts, parseNative, truncateRight, type NativeEncoding, type NativeTokenizer } from './native.ts';
import { discoverSpecialTokens, searchedFor, tokenizerHeader, type SpecialRole, type SpecialToken, type SpecialTokens } from './specials.ts';

export interface TokenizedText {
  readonly tokens: string[];
  readonly ids: number[];
}

export class TextTokenizer {
  readonly specialTokens: SpecialTokens;
  readonly vocabSize: number;
  #specialCount: Promise<number> | null = null;

  private constructor(
    /** A file path, or a description such as "trained unigram tokenizer": every error names it. */
    readonly source: string,
    /** The tokenizer.json text as read (or as the binding wrote it after training); `save` writes it back unchanged. */
    readonly json: string,
    private readonly native: NativeTokenizer,
    specialTokens: SpecialTokens,
  ) {
    this.specialTokens = specialTokens;
    this.vocabSize = native.getVocabSize(true);
  }

  static fromFile(path: string): TextTokenizer {
    let json: string;
    try {
      json = readFileSync(path, 'utf8');
    } catch (e) {
      const error = toXlmtError(e);
      throw new TokenizerError({ code: error.code, message: `cannot read the tokenizer: ${error.problem}`, where: { file: path } }, { cause: e });
    }
    return TextTokenizer.fromJSON(json, path);
  }

  static fromJSON(json: string, source = 'tokenizer JSON string'): TextTokenizer {
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch (e) {
      throw new TokenizerError(
        { code: 'TOKENIZER_INVALID', message: `not valid JSON: ${reason(e)}`, where: { file: source }, expected: 'a Hugging Face tokenizer.json' },
        { cause: e },
      );
    }
    const header = tokenizerHeader.safeParse(parsed);
    if (!header.success) {
      const issue = header.error.issues[0];
      const field = issue && issue.path.length > 0 ? issue.path.join('.') : undefined;
      throw new TokenizerError({
        code: 'TOKENIZER_INVALID',
        message: `not a tokenizer.json: ${issue?.message ?? 'unexpected shape'}`,
        where: { file: source, ...(field === undefined ? {} : { field }) },
        expected: 'a Hugging Face tokenizer.json',
        received: preview(parsed),
      });
    }
    let native: NativeTokenizer;
    try {
      native = parseNative(json);
    } catch (e) {
      throw new TokenizerError({ code: 'TOKENIZER_INVALID', message: `the tokenizers library cannot load it: ${reason(e)}`, where: { file: source } }, { cause: e });
    }
    // Padding and truncation are per call here (encodeBatch options); settings stored in the file would
    // otherwise apply to every encode. The file itself keeps them: `save` writes `json`.
    native.disablePadding();
    native.disableTruncation();
    return new TextTokenizer(source, json, native, discoverSpecialTokens(header.data, native));
  }

  /** The token for `role`, or an error naming the file, what was searched and why it was needed. */
  special(role: SpecialRole, neededFor?: string): SpecialToken {
    const found = this.specialTokens[role];
    if (found) return found;
    throw new TokenizerError({
      code: 'TOKENIZER_MISSING_SPECIAL_TOKEN',
      message: `no ${role} token${neededFor ? `, needed for ${neededFor}` : ''}`,
      where: { file: this.source },
      expected: `one of ${searchedFor(role)}`,
      hint: `add one to the tokenizer's added_tokens${role === 'pad' ? " or encode with padding: 'none'" : ''}`,
    });
  }

  save(path: string): void {
    try {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, this.json);
    } catch (e) {
      const error = toXlmtError(e);
      throw new TokenizerError({ code: error.code === 'INTERNAL' ? 'IO_FAILED' : error.code, message: `cannot write the tokenizer: ${error.problem}`, where: { file: path } }, { cause: e });
    }
  }

  tokenToId(token: string): number | null {
    return this.native.tokenToId(token);
  }

  idToToken(id: number): string | null {
    return this.native.idToToken(id);
  }

  /** One text with the post-processor's special tokens, unpadded and untruncated: for inspection. */
  async tokenize(text: string): Promise<TokenizedText> {
    const [encoding] = await this.encodeOrThrow([text], true);
    return { tokens: encoding?.getTokens() ?? [], ids: encoding?.getIds() ?? [] };
  }

  async decode(ids: readonly number[], options: { skipSpecialTokens?: boolean } = {}): Promise<string> {
    try {
      return await this.native.decode([...ids], options.skipSpecialTokens ?? true);
    } catch (e) {
      throw new TokenizerError(
        { code: 'BAD_ARGUMENT', message: `cannot decode the ids: ${reason(e)}`, where: { file: this.source, api: 'decode' }, received: preview(ids) },
        { cause: e },
      );
    }
  }

  /** How many special tokens the post-processor adds to one text (2 for BERT and XLM-R, 0 without one). */
  specialTokenCount(): Promise<number> {
    this.#specialCount ??= this.encodeOrThrow([''], false).then(([empty]) =>
      empty === undefined ? 0 : this.native.postProcess(empty, null, true).getLength(),
    );
    return this.#specialCount;
  }

  /**
   * Encodes each text, truncates it (right side) to leave room for the special tokens, lets the
   * post-processor add them (so the closing [SEP] / </s> survives truncation), and pads right.
   */
  async encodeBatch(texts: readonly string[], options: EncodeOptions): Promise<EncodedBatch> {
    const specialCount = await this.specialTokenCount();
    const { maxLength, padding, truncation } = checkEncodeOptions(options, specialCount);
    const padId = padding === 'none' ? 0 : this.special('pad', `padding '${padding}'`).id;
    const encodings = await this.encodeOrThrow(texts, false);
    const rows: EncodedRow[] = encodings.map((encoding, i) => {
      if (truncation) truncateRight(encoding, maxLength - specialCount);
      const framed = this.native.postProcess(encoding, null, true);
      const ids = framed.getIds();
      if (ids.length > maxLength) {
        throw new TokenizerError({
          code: 'SEQUENCE_TOO_LONG',
          message: `text ${i} (${preview(texts[i])}) is too long`,
          where: { api: 'encodeBatch' },
          expected: `at most maxLength ${maxLength} tokens`,
          received: `${ids.length} tokens`,
          hint: 'encode with truncation: true or raise maxLength',
        });
      }
      return { ids, typeIds: framed.getTypeIds() };
    });
    return packRows(rows, paddedLength(rows, padding, maxLength), padId);
  }

  private async encodeOrThrow(texts: readonly string[], addSpecialTokens: boolean): Promise<NativeEncoding[]> {
    const notString = texts.findIndex((t) => typeof t !== 'string');
    if (notString >= 0) {
      throw new TokenizerError({ code: 'BAD_ARGUMENT', message: `text ${notString} is not a string`, where: { api: 'encodeBatch' }, expected: 'a string', received: preview(texts[notString]) });
    }
    try {
      return await encodeTexts(this.native, texts, addSpecialTokens);
    } catch (e) {
      throw new TokenizerError(
        { code: 'TOKENIZER_INVALID', message: `the tokenizers library failed to encode a batch of ${texts.length} texts: ${reason(e)}`, where: { file: this.source } },
        { cause: e },
      );
    }
  }
}
