// TextTokenizer: a typed wrapper over one Hugging Face tokenizer.json (WordPiece, Unigram, BPE… whatever the
// `tokenizers` binding reads) that encodes batches straight into model-ready typed arrays.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { checkEncodeOptions, packRows, paddedLength, type EncodedBatch, type EncodedRow, type EncodeOptions } from './batch.ts';
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
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new TokenizerError('TOKENIZER_FILE_NOT_FOUND', `tokenizer file not found: ${path}`);
      throw new TokenizerError('TOKENIZER_FILE_NOT_FOUND', `cannot read tokenizer file ${path}: ${reason(e)}`);
    }
    return TextTokenizer.fromJSON(json, path);
  }

  static fromJSON(json: string, source = 'tokenizer JSON string'): TextTokenizer {
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch (e) {
      throw new TokenizerError('TOKENIZER_INVALID_JSON', `${source} is not valid JSON (${reason(e)}); expected a Hugging Face tokenizer.json`);
    }
    const header = tokenizerHeader.safeParse(parsed);
    if (!header.success) {
      const issue = header.error.issues[0];
      const where = issue && issue.path.length > 0 ? issue.path.join('.') : '(top level)';
      throw new TokenizerError(
        'TOKENIZER_INVALID_FORMAT',
        `${source} is not a tokenizer.json: at ${where}: ${issue?.message ?? 'unexpected shape'}; received ${preview(parsed)}`,
      );
    }
    let native: NativeTokenizer;
    try {
      native = parseNative(json);
    } catch (e) {
      throw new TokenizerError('TOKENIZER_REJECTED', `the tokenizers library cannot load ${source}: ${reason(e)}`);
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
    throw new TokenizerError(
      'TOKENIZER_MISSING_SPECIAL_TOKEN',
      `${this.source} has no ${role} token (searched ${searchedFor(role)})${neededFor ? `, needed for ${neededFor}` : ''}; ` +
        `add one to the tokenizer's added_tokens${role === 'pad' ? " or encode with padding: 'none'" : ''}`,
    );
  }

  save(path: string): void {
    try {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, this.json);
    } catch (e) {
      throw new TokenizerError('TOKENIZER_WRITE_FAILED', `cannot write tokenizer ${this.source} to ${path}: ${reason(e)}`);
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
      throw new TokenizerError('TOKENIZER_INVALID_OPTIONS', `${this.source}: cannot decode ids ${preview(ids)}: ${reason(e)}`);
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
        throw new TokenizerError(
          'TOKENIZER_SEQUENCE_TOO_LONG',
          `text ${i} (${preview(texts[i])}) has ${ids.length} tokens, more than maxLength ${maxLength}; ` +
            `encode with truncation: true or raise maxLength`,
        );
      }
      return { ids, typeIds: framed.getTypeIds() };
    });
    return packRows(rows, paddedLength(rows, padding, maxLength), padId);
  }

  private async encodeOrThrow(texts: readonly string[], addSpecialTokens: boolean): Promise<NativeEncoding[]> {
    const notString = texts.findIndex((t) => typeof t !== 'string');
    if (notString >= 0) {
      throw new TokenizerError('TOKENIZER_INVALID_OPTIONS', `text ${notString} is not a string: received ${preview(texts[notString])}`);
    }
    try {
      return await encodeTexts(this.native, texts, addSpecialTokens);
    } catch (e) {
      throw new TokenizerError('TOKENIZER_REJECTED', `${this.source} failed to encode a batch of ${texts.length} texts: ${reason(e)}`);
    }
  }
}
