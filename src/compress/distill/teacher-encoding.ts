// How a teacher reads a batch: its own tokenizer's ids for each text, cut to its length, except where the student's
// ids are exactly those (the same tokenizer file and the same cut): then they are taken as they are, so a teacher
// beside a student tokenizes nothing twice and its hidden states line up with the student's token for token.
import { createHash } from 'node:crypto';
import { XlmtError } from '../../errors/index.ts';
import { portableTokenizerJson } from '../../export/hf-tokenizer.ts';
import { encodeIds, type TextTokenizer } from '../../tokenize/index.ts';

/**
 * sha256 of the tokenizer.json text as an export writes it (an NMT normalizer spelled as Replace, which tokenizes
 * alike), so a model directory and its export hash the same. Equal hashes mean equal token ids for every text.
 */
export function tokenizerHash(tokenizer: TextTokenizer): string {
  return createHash('sha256').update(portableTokenizerJson(tokenizer.json)).digest('hex');
}

/** The student's encoding of a batch, offered to the teacher. */
export interface StudentIds {
  /** Token ids per text, special tokens included, as encodeIds gave them (EncodedExamples.ids rows). */
  readonly ids: readonly Int32Array[];
  /** tokenizerHash of the student's tokenizer. */
  readonly tokenizerHash: string;
  /** The length the student cut its texts to. */
  readonly maxLength: number;
}

/** What a teacher is asked about: texts, and optionally the student's ids for them. */
export interface TeacherBatch {
  readonly texts: readonly string[];
  readonly student?: StudentIds;
}

/** The ids a teacher read for a batch. */
export interface TeacherTokens {
  /** Per text, in order. */
  readonly ids: readonly Int32Array[];
  /** How many rows were the student's ids taken as they were; the teacher encoded the others itself. */
  readonly fromStudent: number;
  /** Every row is identical to the student's: hidden states align with the student's token for token. */
  readonly sameAsStudent: boolean;
}

export interface TeacherEncoding {
  readonly tokenizer: TextTokenizer;
  readonly tokenizerHash: string;
  /** The teacher cuts texts to this many tokens. */
  readonly maxLength: number;
}

/**
 * A student row equals the teacher's own encoding when the tokenizers are the same and both cut the text at the
 * same place: the row was not cut by the student (shorter than its length) and fits the teacher, or both cut at
 * the same length.
 */
function reusable(row: Int32Array, student: StudentIds, teacher: TeacherEncoding): boolean {
  if (student.tokenizerHash !== teacher.tokenizerHash || row.length > teacher.maxLength) return false;
  return row.length < student.maxLength || student.maxLength === teacher.maxLength;
}

export async function teacherTokens(batch: TeacherBatch, teacher: TeacherEncoding): Promise<TeacherTokens> {
  const { texts, student } = batch;
  if (student && student.ids.length !== texts.length) {
    throw new XlmtError({
      code: 'BAD_ARGUMENT',
      where: { api: 'Teacher.logits', field: 'student.ids' },
      message: 'the student\'s ids and the texts differ in number',
      expected: `${texts.length} rows of ids, one per text`,
      received: `${student.ids.length} rows`,
    });
  }
  const taken = texts.map((_, i) => (student && reusable(student.ids[i] as Int32Array, student, teacher) ? (student.ids[i] as Int32Array) : null));
  const missing = texts.flatMap((text, i) => (taken[i] === null ? [text] : []));
  const encoded = (await encodeIds(teacher.tokenizer, missing, teacher.maxLength)).ids;
  let next = 0;
  const ids = taken.map((row) => row ?? (encoded[next++] as Int32Array));
  const sameAsStudent = student !== undefined && ids.every((row, i) => sameIds(row, student.ids[i] as Int32Array));
  return { ids, fromStudent: texts.length - missing.length, sameAsStudent };
}

function sameIds(a: Int32Array, b: Int32Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
