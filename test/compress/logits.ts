// Every task's logits of a model directory on a JSONL file's texts, concatenated: for comparing two models' outputs.
import { readFileSync } from 'node:fs';
import { openModelTeacher } from '../../src/compress/distill/teacher-model.ts';
import { paddedBatch } from '../../src/infer/batching.ts';
import { encodeIds } from '../../src/tokenize/index.ts';

export async function logits(dir: string, file: string): Promise<number[]> {
  const texts = readFileSync(file, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { text: string }).text);
  const teacher = await openModelTeacher(dir, { threads: 1 });
  try {
    const { ids } = await encodeIds(teacher.tokenizer, texts, teacher.meta.maxLength);
    const out = await teacher.runner.run(paddedBatch(ids, teacher.meta.padId), {});
    return teacher.tasks.flatMap((t) => [...(out.logits.get(t.name) as Float32Array)]);
  } finally {
    await teacher.runner.release();
  }
}
