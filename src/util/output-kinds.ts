// What an existing output directory holds: the manifest xlmt writes into every output directory, and the
// markers that recognize the outputs of versions that wrote no manifest.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

/** The commands that write output directories, as the manifest names them. */
export const OUTPUT_COMMANDS = ['export', 'import', 'train', 'pretrain', 'baseline train', 'experiment', 'quickstart', 'prune layers', 'prune heads-ffn', 'prune hidden', 'trim-vocab', 'init-student', 'distill', 'compress'] as const;
export type OutputCommand = (typeof OUTPUT_COMMANDS)[number];

export const MANIFEST_FILE = '.xlmt-output.json';

const ManifestSchema = z.object({
  format: z.literal('xlmt-output'),
  version: z.literal(1),
  command: z.enum(OUTPUT_COMMANDS),
  createdAt: z.string(),
  /** The top-level entries the command wrote (outputs replaced whole); anything else blocks replacing them. */
  files: z.array(z.string()).optional(),
});

export type Manifest = z.infer<typeof ManifestSchema>;

/**
 * How each command's outputs from before manifests are recognized, so that a run resumes and an export is
 * replaced as before. `marker` looks for files only that command writes; `writes`, for outputs replaced whole, are
 * the names that command writes: an older output holding anything else is not replaced (it would be lost).
 */
interface LegacyKind {
  readonly describe: string;
  readonly marker: (dir: string, entries: ReadonlySet<string>) => boolean;
  readonly writes?: ReadonlySet<string>;
}

const NEWER_THAN_MANIFESTS: LegacyKind = { describe: 'an output with a manifest', marker: () => false };

const MODEL_FILES = ['config.json', 'model.safetensors', 'tokenizer.json', 'tasks.json', 'xlmt.json'];

const LEGACY: Readonly<Record<OutputCommand, LegacyKind>> = {
  export: {
    describe: 'an ONNX export (onnx/model.onnx and xlmt.json)',
    marker: (dir, e) => e.has('xlmt.json') && existsSync(join(dir, 'onnx', 'model.onnx')),
    writes: new Set(['config.json', 'tokenizer.json', 'tokenizer_config.json', 'tasks.json', 'xlmt.json', 'onnx']),
  },
  import: {
    describe: 'a model directory (model.safetensors, tasks.json and xlmt.json)',
    marker: (_dir, e) => MODEL_FILES.every((f) => e.has(f)) && !e.has('onnx'),
    writes: new Set(MODEL_FILES),
  },
  'baseline train': {
    describe: 'a baseline (baseline.json)',
    marker: (_dir, e) => e.has('baseline.json'),
    writes: new Set(['baseline.json', 'weights.safetensors']),
  },
  train: {
    describe: 'a training run (config.json naming the training data, with checkpoints/, best/ or metrics.jsonl)',
    marker: (dir, e) => typeof savedConfig(dir, e)?.['train'] === 'string' && ['checkpoints', 'best', 'metrics.jsonl'].some((f) => e.has(f)),
  },
  pretrain: {
    describe: 'a pretraining run (config.json naming the corpus, with checkpoints/ or model/)',
    marker: (dir, e) => Array.isArray(savedConfig(dir, e)?.['corpus']) && ['checkpoints', 'model'].some((f) => e.has(f)),
  },
  experiment: {
    describe: 'an experiment (data/, runs/, results.json, report.md)',
    marker: (_dir, e) => (e.has('data') || e.has('runs')) && subset(e, ['data', 'runs', 'results.json', 'report.md', 'results.json.tmp', 'report.md.tmp']),
  },
  quickstart: {
    describe: 'a quickstart directory (tokenizer.json, pretrain/, train/, export/)',
    marker: (_dir, e) => subset(e, ['tokenizer.json', 'pretrain', 'train', 'export']),
  },
  // Commands newer than manifests: their outputs always carry one.
  'prune layers': NEWER_THAN_MANIFESTS,
  'prune heads-ffn': NEWER_THAN_MANIFESTS,
  'prune hidden': NEWER_THAN_MANIFESTS,
  'trim-vocab': NEWER_THAN_MANIFESTS,
  'init-student': NEWER_THAN_MANIFESTS,
  distill: NEWER_THAN_MANIFESTS,
  compress: NEWER_THAN_MANIFESTS,
};

function subset(entries: ReadonlySet<string>, allowed: readonly string[]): boolean {
  return [...entries].every((e) => allowed.includes(e));
}

/** A run's config.json as an object (the settings it began with), or null. */
function savedConfig(dir: string, entries: ReadonlySet<string>): Record<string, unknown> | null {
  if (!entries.has('config.json')) return null;
  try {
    const json: unknown = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    return json !== null && typeof json === 'object' && !Array.isArray(json) ? (json as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** What an output path holds now. `extra`: entries the earlier output's command did not write. */
export type Found =
  | { readonly kind: 'missing' }
  | { readonly kind: 'not a directory' }
  | { readonly kind: 'empty' }
  | { readonly kind: 'output'; readonly command: OutputCommand; readonly manifest: Manifest | null; readonly describe: string; readonly extra: readonly string[] }
  | { readonly kind: 'unrelated'; readonly entries: readonly string[] };

export function readManifest(dir: string): Manifest | null {
  try {
    const parsed = ManifestSchema.safeParse(JSON.parse(readFileSync(join(dir, MANIFEST_FILE), 'utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

export async function writeManifest(dir: string, command: OutputCommand, files?: readonly string[]): Promise<void> {
  const manifest: Manifest = { format: 'xlmt-output', version: 1, command, createdAt: new Date().toISOString(), ...(files ? { files: [...files] } : {}) };
  await writeFile(join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
}

/**
 * What `dir` holds, judged for `command`: a manifest names its command outright; without one, `command`'s own
 * marker is tried first, then the other commands' markers.
 */
export function inspectOutput(dir: string, command: OutputCommand): Found {
  const stat = statSync(dir, { throwIfNoEntry: false });
  if (!stat) return { kind: 'missing' };
  if (!stat.isDirectory()) return { kind: 'not a directory' };
  const names = readdirSync(dir).filter((name) => name !== MANIFEST_FILE);
  const manifest = readManifest(dir);
  if (names.length === 0 && manifest === null) return { kind: 'empty' };
  if (manifest !== null) {
    const written = manifest.files === undefined ? null : new Set(manifest.files);
    const extra = written === null ? [] : names.filter((n) => !written.has(n));
    return { kind: 'output', command: manifest.command, manifest, describe: `an output of xlmt ${manifest.command}`, extra };
  }
  const entries = new Set(names);
  const order = [command, ...OUTPUT_COMMANDS.filter((c) => c !== command)];
  const found = order.find((c) => LEGACY[c].marker(dir, entries));
  if (found === undefined) return { kind: 'unrelated', entries: names };
  const { writes, describe } = LEGACY[found];
  return { kind: 'output', command: found, manifest: null, describe, extra: writes === undefined ? [] : names.filter((n) => !writes.has(n)) };
}
