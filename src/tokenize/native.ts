// The only module that imports the `tokenizers` native binding: re-exports its well-typed parts, wraps the loose ones.
//
// Why a wrapper: the binding's index.d.ts names `InputSequence`/`EncodeInput` without declaring them (they
// silently become `any`), declares const enums that are empty objects at run time, and `Encoding.truncate`
// defaults to cutting from the *left* (unlike `Tokenizer.setTruncation` and the Python API).
import * as tk from 'tokenizers';

export type NativeTokenizer = tk.Tokenizer;
export type NativeEncoding = tk.Encoding;
export type NativeModel = tk.Model;

export {
  AddedToken,
  Tokenizer,
  Unigram,
  WordPiece,
  bertNormalizer,
  bertPreTokenizer,
  bertProcessing,
  lowercase,
  metaspaceDecoder,
  metaspacePreTokenizer,
  nfkcNormalizer,
  nmt,
  robertaProcessing,
  sequenceNormalizer,
  wordPieceDecoder,
} from 'tokenizers';

/** Parses a tokenizer.json text; the binding's own errors are serde messages ("missing field `model` at …"). */
export function parseNative(json: string): NativeTokenizer {
  return tk.Tokenizer.fromString(json);
}

/** Encodes single sequences (no pairs), in parallel on the binding's thread pool. */
export function encodeTexts(native: NativeTokenizer, texts: readonly string[], addSpecialTokens: boolean): Promise<NativeEncoding[]> {
  const inputs: string[] = [...texts];
  return native.encodeBatch(inputs, { addSpecialTokens });
}

/** Keeps the first `length` tokens; the rest go to the encoding's overflowing parts. */
export function truncateRight(encoding: NativeEncoding, length: number): void {
  encoding.truncate(length, 0, 'right');
}
