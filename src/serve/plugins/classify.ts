// The classification API: POST /v1/classify answers texts through the dynamic batcher; GET /v1/model says
// which model answers and what its tasks and labels are.
import type { FastifyPluginAsync } from 'fastify';
import { selectTasks } from '../../infer/types.ts';
import type { Batcher } from '../batcher.ts';
import type { Limits } from '../config.ts';
import { ServeError } from '../errors.ts';
import { modelId, type ModelSlot } from '../model-slot.ts';
import { classifyRequest, classifyResponse, errorResponses, modelResponse, type ClassifyBody } from '../schemas.ts';
import { cutToChars } from '../texts.ts';

export interface ClassifyPluginOptions {
  readonly slot: ModelSlot;
  readonly batcher: Batcher;
  readonly limits: Limits;
}

export const classifyPlugin: FastifyPluginAsync<ClassifyPluginOptions> = async (app, { slot, batcher, limits }) => {
  const current = () => {
    const model = slot.model;
    if (!model) throw new ServeError('NOT_READY', 'the model is still loading; retry when /readyz answers 200');
    return model;
  };

  app.post<{ Body: ClassifyBody }>('/v1/classify', {
    schema: {
      summary: 'Classify texts for every requested task',
      description: `Up to ${limits.maxTexts} texts per request. Texts of concurrent requests are batched together; `
        + 'results come back one per text, in request order.',
      tags: ['classification'],
      body: classifyRequest(limits),
      response: { 200: classifyResponse, ...errorResponses(400, 401, 413, 415, 500, 503) },
    },
  }, async (request) => {
    const { texts, tasks } = request.body;
    // Unknown tasks fail here, before queueing, naming the task and the model's tasks.
    if (tasks) selectTasks(current().classifier.tasks, tasks);
    const cut = texts.map((text) => cutToChars(text, limits.maxChars));
    const answer = await batcher.submit(texts.map((text, i) => cut[i] ?? text), tasks);
    return {
      model: modelId(answer.model),
      results: answer.predictions.map((p, i) => ({ tasks: p.tasks, truncated: p.truncated || cut[i] !== null })),
    };
  });

  app.get('/v1/model', {
    schema: {
      summary: 'The model being served: name, version, tasks, labels and thresholds',
      tags: ['classification'],
      response: { 200: modelResponse, ...errorResponses(401, 503) },
    },
  }, async () => {
    const { classifier, info } = current();
    return { model: info, maxLength: classifier.maxLength, tasks: classifier.tasks };
  });
};
