// model/ in a pretraining run (either objective): a Hugging Face encoder directory with its tokenizer, replaced
// whole, which `xlmt train --init` takes.
import { join } from 'node:path';
import { type HfModelConfig, saveHfModel } from '../checkpoint/index.ts';
import type { ParamStore } from '../ir/params.ts';
import type { TextTokenizer } from '../tokenize/index.ts';
import { replaceDir } from '../util/output-dir.ts';

export interface PretrainedModel {
  readonly hf: HfModelConfig;
  readonly params: ParamStore;
  readonly tokenizer: TextTokenizer;
  /** Written into model.safetensors' header: the producer, and the step for masked-LM. */
  readonly metadata: Readonly<Record<string, string>>;
}

export async function savePretrainedModel(dir: string, model: PretrainedModel): Promise<void> {
  await replaceDir(dir, 'pretrain', async (tmp) => {
    await saveHfModel(tmp, { config: model.hf, params: model.params, metadata: model.metadata });
    model.tokenizer.save(join(tmp, 'tokenizer.json'));
  });
}
