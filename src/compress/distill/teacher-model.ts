// A teacher read from a model directory (a run's best model included): its weights embedded in the teacher graph,
// which gives logits and, when asked, every layer's hidden states and attention projections.
import { XlmtError } from '../../errors/index.ts';
import type { TensorData } from '../../ir/tensor.ts';
import { Session } from '../../runtime/session.ts';
import { loadModelDir } from '../../train/model-dir.ts';
import type { AttentionRelation } from './names.ts';
import { hiddenOutput, logitsOutput, projectionOutput, teacherGraph } from './teacher-graph.ts';
import type { OpenedTeacher, ProjectionValues, RunnerOptions, RunnerOutputs, StatesRequest, TeacherRunner } from './teacher-runner.ts';

const RELATIONS: readonly AttentionRelation[] = ['query', 'key', 'value'];

export async function openModelTeacher(dir: string, options: RunnerOptions): Promise<OpenedTeacher> {
  const model = await loadModelDir(dir);
  const tasks = model.schema.tasks;
  const config = model.hf.encoder;
  const graph = teacherGraph(config, tasks, { pooling: model.meta.pooling, headStyle: model.meta.headStyle, positions: model.meta.positions });
  const session = await Session.create(graph, { params: model.params, ...(options.threads ? { threads: options.threads } : {}) });
  const layers = config.numHiddenLayers;
  const runner: TeacherRunner = {
    source: dir,
    async run(feeds: Readonly<Record<string, TensorData>>, states: StatesRequest): Promise<RunnerOutputs> {
      const fetch = [
        ...tasks.map((t) => logitsOutput(t.name)),
        ...(states.hiddenStates ? Array.from({ length: layers + 1 }, (_, l) => hiddenOutput(l)) : []),
        ...(states.projections ? Array.from({ length: layers }, (_, l) => RELATIONS.map((r) => projectionOutput(r, l))).flat() : []),
      ];
      const results = await session.run(feeds, undefined, fetch);
      const float = (name: string): Float32Array => {
        const data = results[name]?.data;
        if (!(data instanceof Float32Array)) throw new XlmtError({ code: 'INTERNAL', where: { file: dir, node: name }, message: 'the teacher graph gave no float32 output here' });
        return data;
      };
      const projections = (layer: number): ProjectionValues => ({
        query: float(projectionOutput('query', layer)),
        key: float(projectionOutput('key', layer)),
        value: float(projectionOutput('value', layer)),
      });
      return {
        logits: new Map(tasks.map((t) => [t.name, float(logitsOutput(t.name))])),
        hiddenStates: states.hiddenStates ? Array.from({ length: layers + 1 }, (_, l) => float(hiddenOutput(l))) : null,
        projections: states.projections ? Array.from({ length: layers }, (_, l) => projections(l)) : null,
      };
    },
    release: () => session.release(),
  };
  return { tasks, tokenizer: model.tokenizer, meta: model.meta, encoder: config, runner };
}
