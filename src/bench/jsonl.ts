// The JSONL text files the benchmarks read: a line that is not JSON is a data issue naming the file and line.
import { DataError, issue } from '../data/issues.ts';

/** One JSONL line as an object; a line that is not JSON is a data issue naming file and line. */
export function parseLine(file: string, line: number, text: string): { text?: unknown } {
  try {
    return JSON.parse(text) as { text?: unknown };
  } catch (e) {
    throw new DataError([issue('BAD_JSON', { file, line }, `invalid JSON: ${(e as Error).message}`)]);
  }
}
