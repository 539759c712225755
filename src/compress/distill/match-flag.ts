// `--match S:T,S:T,…`: which student layer learns from which teacher layer in intermediate-layer transfer, read
// from the flag or, when it is not given, spread uniformly over the teacher's depth.
import { XlmtError } from '../../errors/index.ts';
import type { LayerMatch } from './matches.ts';

export const MATCH_FLAG = '--match';

const PAIR = /^(\d+):(\d+)$/;

/** The pairs as written, in order; refuses anything but comma-separated `student:teacher` layer numbers. */
export function parseMatchFlag(text: string): LayerMatch[] {
  return text.split(',').map((part) => {
    const found = PAIR.exec(part.trim());
    if (!found) {
      throw new XlmtError({
        code: 'BAD_OPTION',
        where: { field: MATCH_FLAG },
        message: `${JSON.stringify(part)} is not a student:teacher pair of layers`,
        expected: 'comma-separated pairs of layer numbers such as 1:4,2:8,3:12 (0 is the embeddings\' output)',
        received: text,
      });
    }
    return { student: Number(found[1]), teacher: Number(found[2]) };
  });
}

/** Student layer i ↦ teacher layer round(i·L_t/L_s), for i = 1…L_s: the last layers meet, the others are spread evenly. */
export function uniformMatches(studentLayers: number, teacherLayers: number): LayerMatch[] {
  return Array.from({ length: studentLayers }, (_, k) => ({ student: k + 1, teacher: Math.round(((k + 1) * teacherLayers) / studentLayers) }));
}

export interface MatchDepths {
  readonly studentLayers: number;
  readonly teacherLayers: number;
}

/**
 * The mapping of `--match` (uniform when undefined), checked against both encoders: every layer from 0 (the
 * embeddings) to the encoder's depth, each student layer at most once (it has one projection).
 */
export function resolveMatches(text: string | undefined, depths: MatchDepths): LayerMatch[] {
  if (text === undefined) return uniformMatches(depths.studentLayers, depths.teacherLayers);
  const matches = parseMatchFlag(text);
  const seen = new Set<number>();
  for (const m of matches) {
    for (const [side, layer, count] of [['student', m.student, depths.studentLayers], ['teacher', m.teacher, depths.teacherLayers]] as const) {
      if (layer > count) {
        throw new XlmtError({
          code: 'BAD_OPTION',
          where: { field: MATCH_FLAG },
          message: `the ${side} has no layer ${layer}: it has ${count}`,
          expected: `${side} layers from 0 (the embeddings) to ${count}`,
          received: `${m.student}:${m.teacher}`,
        });
      }
    }
    if (seen.has(m.student)) {
      throw new XlmtError({
        code: 'BAD_OPTION',
        where: { field: MATCH_FLAG },
        message: `student layer ${m.student} is matched twice`,
        expected: 'each student layer at most once (it learns through one projection)',
        received: text,
      });
    }
    seen.add(m.student);
  }
  return matches;
}
