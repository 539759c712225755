// Which student layer learns from which teacher layer in intermediate-layer transfer, and the checks a mapping
// must pass before a loss is built from it.
import { XlmtError } from '../../errors/index.ts';

/**
 * One student layer matched to one teacher layer, numbered as transformers' hidden_states: 0 is the embeddings'
 * output, i ≥ 1 the output of the i-th transformer layer (the attention relations of layer i are those inside it).
 */
export interface LayerMatch {
  readonly student: number;
  readonly teacher: number;
}

export interface MatchBounds {
  readonly studentLayers: number;
  readonly teacherLayers: number;
  /** 0 when the embeddings may be matched (hidden states), 1 when only transformer layers can (attention relations). */
  readonly first: 0 | 1;
  /** The loss checking the mapping, for the error's `where`. */
  readonly api: string;
}

/** Refuses an empty mapping, a layer out of range, or a student layer matched twice (one projection per layer). */
export function checkMatches(matches: readonly LayerMatch[], bounds: MatchBounds): void {
  const { api, first } = bounds;
  if (matches.length === 0) {
    throw new XlmtError({ code: 'BAD_ARGUMENT', message: 'no layer to match', where: { api, field: 'matches' }, expected: 'at least one student:teacher pair' });
  }
  const seen = new Set<number>();
  for (const m of matches) {
    for (const [side, layer, count] of [['student', m.student, bounds.studentLayers], ['teacher', m.teacher, bounds.teacherLayers]] as const) {
      if (!Number.isInteger(layer) || layer < first || layer > count) {
        throw new XlmtError({
          code: 'BAD_ARGUMENT',
          message: `the ${side} has no layer ${layer} to match`,
          where: { api, field: 'matches' },
          expected: `a layer from ${first} to ${count}`,
          received: `${m.student}:${m.teacher}`,
        });
      }
    }
    if (seen.has(m.student)) {
      throw new XlmtError({ code: 'BAD_ARGUMENT', message: `student layer ${m.student} is matched twice`, where: { api, field: 'matches' }, expected: 'each student layer at most once' });
    }
    seen.add(m.student);
  }
}
