// Sharded checkpoints: model.safetensors.index.json maps every tensor to the shard file that holds it.
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import { CheckpointError, describeIssue, issuePath, readFailure } from './errors.ts';
import { readSafetensors, type SafeTensor } from './safetensors.ts';

const indexSchema = z.object({
  metadata: z.record(z.string(), z.unknown()).nullable().optional(),
  weight_map: z.record(z.string(), z.string()),
});

export interface ShardedTensors {
  readonly tensors: ReadonlyMap<string, SafeTensor>;
  readonly files: readonly string[];
  readonly metadata: Readonly<Record<string, string>>;
}

/**
 * Reads every shard the index names, once each. The index and the shards must agree exactly: a tensor the index
 * places in a shard that lacks it, or a shard tensor the index does not list there, is an error (either means the
 * files come from different saves).
 */
export async function readShardedSafetensors(indexPath: string): Promise<ShardedTensors> {
  const weightMap = await readIndex(indexPath);
  const byShard = new Map<string, string[]>();
  for (const [tensor, shard] of weightMap) {
    if (shard !== basename(shard) || shard === '.' || shard === '..' || shard === '') {
      throw new CheckpointError({
        code: 'BAD_INDEX',
        file: indexPath,
        field: `weight_map.${tensor}`,
        problem: 'shard must be a file name in the same directory',
        received: JSON.stringify(shard),
      });
    }
    byShard.set(shard, [...(byShard.get(shard) ?? []), tensor]);
  }
  const tensors = new Map<string, SafeTensor>();
  const files: string[] = [];
  let metadata: Readonly<Record<string, string>> | undefined;
  for (const [shard, listed] of byShard) {
    const path = join(dirname(indexPath), shard);
    const file = await readSafetensors(path);
    files.push(path);
    metadata ??= file.metadata;
    for (const name of listed) {
      const t = file.tensors.get(name);
      if (!t) throw new CheckpointError({ code: 'BAD_INDEX', file: indexPath, tensor: name, problem: `listed in shard ${shard}, which does not contain it` });
      tensors.set(name, t);
    }
    for (const name of file.tensors.keys()) {
      const placed = weightMap.get(name);
      if (placed !== shard) {
        throw new CheckpointError({
          code: 'BAD_INDEX',
          file: path,
          tensor: name,
          problem: placed === undefined ? 'not listed in the index' : `the index places it in ${placed}`,
        });
      }
    }
  }
  return { tensors, files, metadata: metadata ?? {} };
}

async function readIndex(path: string): Promise<ReadonlyMap<string, string>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw readFailure(path, 'read the index', e);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new CheckpointError({ code: 'BAD_INDEX', file: path, problem: `cannot read the index: ${(e as Error).message}` }, { cause: e });
  }
  const parsed = indexSchema.safeParse(json, { reportInput: true });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue ? issuePath(issue.path) : '';
    throw new CheckpointError({ code: 'BAD_INDEX', file: path, ...(field ? { field } : {}), ...(issue ? describeIssue(issue) : { problem: 'invalid index' }) });
  }
  // A Map, so that tensor names such as "constructor" cannot collide with Object.prototype.
  return new Map(Object.entries(parsed.data.weight_map));
}
