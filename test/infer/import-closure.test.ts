// Serving and prediction load no training code: the static imports reachable from their entry points stay out
// of the folders that build, differentiate and train graphs. A failure prints the chain of files that gets there.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

const ENTRY_POINTS = ['src/serve/server.ts', 'src/predict/run.ts', 'src/infer/onnx-classifier.ts', 'src/cli/serve.ts', 'src/cli/predict.ts'];

const FORBIDDEN = ['src/train/', 'src/builder/', 'src/autodiff/', 'src/optim/', 'src/models/', 'src/pretrain/', 'src/experiment/'];

// `import x from '...'`, `import type { a } from '...'`, `export * from '...'`, `export { a } from '...'` (the
// braces may span lines) and bare `import '...'`. Type-only imports count: they tie the folders together too.
const IMPORT_FROM = /^\s*(?:import|export)\s+(?:type\s+)?(?:[\w$]+\s*,?\s*)?(?:\{[^}]*\}|\*(?:\s+as\s+[\w$]+)?)?\s*from\s+['"]([^'"]+)['"]/gm;
const BARE_IMPORT = /^\s*import\s+['"]([^'"]+)['"]/gm;

/** Relative specifiers of a source file, resolved to repository paths (packages and node: builtins left out). */
function localImports(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const specifiers = [...text.matchAll(IMPORT_FROM), ...text.matchAll(BARE_IMPORT)].map((m) => m[1] as string);
  return specifiers.filter((s) => s.startsWith('.')).map((s) => {
    const target = relative(ROOT, resolve(ROOT, dirname(file), s));
    if (!existsSync(join(ROOT, target))) throw new Error(`${file} imports ${s}, which does not resolve to a file (${target})`);
    return target;
  });
}

/** Every file reachable from `entry`, each with the file that first imported it (breadth first: shortest chains). */
function importClosure(entry: string): Map<string, string | null> {
  const parent = new Map<string, string | null>([[entry, null]]);
  const queue = [entry];
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
    for (const target of localImports(file)) {
      if (parent.has(target)) continue;
      parent.set(target, file);
      queue.push(target);
    }
  }
  return parent;
}

function chainTo(file: string, parent: Map<string, string | null>): string[] {
  const chain: string[] = [];
  for (let at: string | null | undefined = file; at; at = parent.get(at)) chain.unshift(at);
  return chain;
}

/** The forbidden files reachable from `entry`, each as the import chain leading to it. */
function forbiddenChains(entry: string): string[] {
  const closure = importClosure(entry);
  return [...closure.keys()].filter((f) => FORBIDDEN.some((dir) => f.startsWith(dir))).map((f) => chainTo(f, closure).join(' -> '));
}

describe('import closure of serving and prediction', () => {
  it('the walker follows multi-line, type-only and re-export imports', () => {
    // A known shape of the tree, so a regex that matches nothing cannot pass the real check below.
    const closure = importClosure('src/serve/server.ts');
    expect(closure.size).toBeGreaterThan(10);
    expect(closure.has('src/infer/onnx-classifier.ts')).toBe(true);
    expect(closure.has('src/errors/index.ts')).toBe(true);
    expect(localImports('src/tokenize/index.ts')).toContain('src/tokenize/tokenizer.ts');
  });

  it('reports the chain to a training file', () => {
    // The training loop reaches the graph builder; the report is the path from the entry point.
    const chains = forbiddenChains('src/train/run.ts');
    expect(chains.some((c) => c.startsWith('src/train/run.ts -> ') && /src\/builder\/[\w-]+\.ts$/.test(c))).toBe(true);
  });

  it.each(ENTRY_POINTS)('%s reaches none of train/, builder/, autodiff/, optim/, models/, pretrain/, experiment/', (entry) => {
    expect(forbiddenChains(entry), `import chains from ${entry} into training code`).toEqual([]);
  });
});
