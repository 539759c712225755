// A teacher read from an export directory (fp32 or int8 onnx/model.onnx). An export gives probabilities, so logits
// are recovered from them (teacher-logits.ts: log p for softmax tasks, exact up to a constant per row, which is all
// the KL term needs; logit(p) for sigmoid tasks, clamped where float32 saturates). A single-task export also
// outputs its `logits`, which are taken as they are. Hidden states are not outputs of an export.
import { XlmtError } from '../../errors/index.ts';
import { LOGITS, probsOutput } from '../../infer/contract.ts';
import { openExportDir } from '../../infer/export-dir.ts';
import type { TensorData } from '../../ir/tensor.ts';
import { logitsFromProbabilities } from './teacher-logits.ts';
import type { OpenedTeacher, RunnerOptions, RunnerOutputs, TeacherRunner } from './teacher-runner.ts';

export async function openExportTeacher(dir: string, options: RunnerOptions): Promise<OpenedTeacher> {
  const { onnxPath, meta, tasks, tokenizer, model } = await openExportDir(dir, options.threads ? { threads: options.threads } : {});
  const [single] = tasks;
  const direct = tasks.length === 1 && model.outputNames.includes(LOGITS);
  const fetch = direct ? [LOGITS] : tasks.map((t) => probsOutput(t.name));
  const runner: TeacherRunner = {
    source: onnxPath,
    async run(feeds: Readonly<Record<string, TensorData>>): Promise<RunnerOutputs> {
      const results = await model.run(feeds, fetch);
      const float = (name: string): Float32Array => {
        const data = results[name]?.data;
        if (!(data instanceof Float32Array)) {
          throw new XlmtError({ code: 'BAD_MODEL', where: { file: onnxPath, node: name }, message: 'the graph gives no float32 values here', expected: 'float32 [batch, labels]', received: data === undefined ? 'no output' : data.constructor.name });
        }
        return data;
      };
      const logits = direct && single
        ? new Map([[single.name, float(LOGITS)]])
        : new Map(tasks.map((t) => [t.name, logitsFromProbabilities(t.type, float(probsOutput(t.name)))]));
      return { logits, hiddenStates: null, projections: null };
    },
    release: () => model.release(),
  };
  return { tasks, tokenizer, meta, encoder: null, runner };
}
