// A model directory with attention heads and FFN neurons cut out by xlmt's own cut (compress/prune/cut.ts), for
// pruned_heads_parity.py to load in transformers. The cuts are given, not chosen: deciding what to remove is
// `xlmt prune heads-ffn`'s business, and the parity check only needs xlmt's cut and xlmt's saved files.
//   node --import tsx tools/reference/prune-fixture.ts --model DIR --cuts cuts.json --out NEW_DIR
// cuts.json: {"LAYER": {"removeHeads": [head indices before pruning], "keepNeurons": [ascending FFN indices]}}.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { cutHeadsAndNeurons, type LayerCut } from '../../src/compress/prune/cut.ts';
import { loadModelDir, writeModelFiles } from '../../src/train/model-dir.ts';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { model: { type: 'string' }, cuts: { type: 'string' }, out: { type: 'string' } } });
  if (!values.model || !values.cuts || !values.out) throw new Error('usage: prune-fixture.ts --model DIR --cuts cuts.json --out NEW_DIR');
  if (existsSync(values.out) && readdirSync(values.out).length > 0) throw new Error(`${values.out} is not empty: give a new directory`);
  const cuts = JSON.parse(readFileSync(values.cuts, 'utf8')) as Record<string, LayerCut>;
  const model = await loadModelDir(values.model);
  const cut = cutHeadsAndNeurons(model.hf.encoder, model.params, cuts);
  await writeModelFiles(values.out, { ...model, hf: { ...model.hf, encoder: cut.config }, params: cut.params });
  process.stdout.write(`${JSON.stringify({ prunedHeads: cut.config.prunedHeads ?? {}, intermediateSize: cut.config.intermediateSize, intermediateSizes: cut.config.intermediateSizes ?? null })}\n`);
}

await main();
