// Which parameters a run trains (`trainable`, --trainable): globs over Hugging Face parameter names, `*` any run of
// characters (dots included), `?` one. The training graph differentiates only the matches, so the optimizer holds
// state only for them and every other parameter stays bit for bit as it started: XtremeDistil's stages 2 and 3.
import type { GraphBuilder } from '../builder/builder.ts';
import { XlmtError } from '../errors/index.ts';
import type { Value } from '../ir/graph.ts';

/** A glob as an anchored regular expression: `heads.*` → /^heads\..*$/. */
export function globPattern(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

/**
 * The parameters of `g` that some pattern matches, in the graph's order; undefined patterns: all of them. A
 * pattern that matches no parameter is refused, naming it, so a misspelt name never freezes the whole model.
 */
export function trainableParams(g: GraphBuilder, patterns: readonly string[] | undefined): readonly Value[] {
  const params = g.build().params;
  if (patterns === undefined) return params;
  const globs = patterns.map((p) => ({ pattern: p, regex: globPattern(p) }));
  const unmatched = globs.find(({ regex }) => !params.some((v) => regex.test(v.name)));
  if (unmatched) {
    const some = params.slice(0, 3).map((v) => v.name);
    const last = params.at(-1)?.name;
    throw new XlmtError({
      code: 'BAD_OPTION',
      message: 'a pattern matches no parameter of the model',
      where: { field: '--trainable' },
      expected: 'globs over Hugging Face parameter names',
      received: unmatched.pattern,
      hint: `the model's ${params.length} parameters are named like ${[...some, ...(last ? [last] : [])].join(', ')}; e.g. heads.*,encoder.layer.11.*,pooler.*`,
    });
  }
  return params.filter((v) => globs.some(({ regex }) => regex.test(v.name)));
}
