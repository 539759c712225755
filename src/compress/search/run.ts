// `xlmt compress --search`: the fastest model within an accuracy budget, from a space of candidates (space.ts)
// made with the pipeline's own steps. Layout of OUT:
//   search.json        settings, the teacher's line, the shapes' timings, every step made and candidate scored
//   <prefix>/          one directory per step made, named by the steps from the teacher ("layers-6.heads-6-ffn-768")
//   reports/<id>.md    dev macro-F1 per task and language of every candidate scored
//   search.md          the budget, every candidate in the order tried, the answer, the Pareto front
//   pareto.svg         the front as a picture
// After a kill the same command goes on: steps made are kept, the step that was running resumes as its command
// does, candidates scored are not scored again. The budget and --exhaustive may change between runs (nothing
// made depends on them), and so may the space: a space that grows (a new student shape, more layer fractions) or
// shrinks reuses every step whose definition is unchanged and times only its new shapes; a space that redefines a
// step already made (another epoch count for "train", other pruning settings) is refused, naming the step. The
// data, teacher and timing settings may not change.
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { timeShapes, INFER_BENCH_DEFAULTS } from '../../bench/infer.ts';
import { CONFIG_FILE, readHfConfig } from '../../checkpoint/index.ts';
import { writeFileAtomic } from '../../checkpoint/atomic.ts';
import { XlmtError } from '../../errors/index.ts';
import { resolveModelDir } from '../../train/assess.ts';
import { claimOutputDir, checkOutputDir, inputsOf, type OutputSpec } from '../../util/output-dir.ts';
import { sortKeys } from '../../util/sort-keys.ts';
import type { EncoderConfig } from '../../models/config.ts';
import type { SpeedOptions } from '../pipeline/measure.ts';
import { type CompressEvents, type ModelLine, measure, moreTeachers, reportFile, runStep, teacherLine, teacherModelInputs } from '../pipeline/run.ts';
import { type Budget, describeBudget } from './budget.ts';
import { slimAfterStep } from '../../train/loop/slim.ts';
import { type Point, paretoSvg, paretoTable } from './pareto.ts';
import { type Outcome, searchBudget, type SearchResult } from './search.ts';
import { type Candidate, candidates, parseSpace, type Space } from './space.ts';

export interface SearchOptions {
  readonly teacher: string;
  readonly train: string;
  readonly dev: string;
  readonly tasks?: string;
  readonly transfer?: readonly string[];
  readonly space: Space;
  readonly budget: Budget;
  /** Score every candidate, for the whole front, instead of stopping at the first within budget. */
  readonly exhaustive: boolean;
  readonly out: string;
  readonly threads: number;
  readonly speed: SpeedOptions;
  /** Keep the finished trainings' whole checkpoints (default: slimmed once their step is recorded). */
  readonly keepCheckpoints?: boolean;
  /** More online teachers beside `teacher` in every training (CompressOptions.teacherModels). */
  readonly teacherModels?: readonly string[];
}

/**
 * Milliseconds per batch of each shape, fp32 and int8, with the teacher's fp32 time of the same interleaved run (a
 * space that grows is timed again for its new shapes only, beside the teacher).
 */
type Timings = Record<string, { readonly fp32: number; readonly int8: number; readonly teacherFp32?: number }>;

interface State {
  readonly format: 'xlmt-compress-search';
  readonly version: 2;
  /** The teacher, data and timing settings: the same on every run of one search. */
  readonly settings: unknown;
  teacher: ModelLine | null;
  timings: Timings | null;
  /** Step prefix → the model it wrote. */
  readonly made: Record<string, string>;
  /** Step prefix → the steps it ran, keys sorted, so that a changed space is checked against what was made. */
  readonly steps: Record<string, unknown>;
  readonly scored: Record<string, ModelLine>;
  /**
   * Wall seconds the search spent: "teacher" (its line), "timing" (the shapes) and each candidate tried (made and
   * scored). Absent in a search begun before it was kept.
   */
  spent?: Record<string, number>;
}

/** Version 1 kept the space in its settings and no steps: what it made is read back through that space. */
interface StateV1 extends Omit<State, 'version' | 'steps'> {
  readonly version: 1;
}

const STATE_FILE = 'search.json';
const TEACHER_KEY = 'teacher';

function settingsOf(o: SearchOptions): unknown {
  return JSON.parse(JSON.stringify({ teacher: o.teacher, teacherModels: moreTeachers(o), train: o.train, dev: o.dev, tasks: o.tasks, transfer: o.transfer, speed: o.speed })) as unknown;
}

/** A candidate's first `count` steps: their directory's name ("layers-6.train") and their definition, keys sorted. */
function stepPrefix(c: Candidate, count: number): { name: string; definition: unknown } {
  const steps = c.steps.slice(0, count);
  return { name: steps.map((s) => s.name).join('.'), definition: sortKeys(steps) };
}

/** Each candidate's step prefixes (its first step, its first two, …) with the steps they run. */
function prefixes(list: readonly Candidate[]): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const c of list) {
    for (let i = 1; i <= c.steps.length; i++) {
      const { name, definition } = stepPrefix(c, i);
      out.set(name, definition);
    }
  }
  return out;
}

function upgrade(state: StateV1 | State, teacher: EncoderConfig, file: string): State {
  if (state.version === 2) return state;
  const { space, ...settings } = state.settings as { space: unknown };
  const defined = prefixes(candidates(teacher, parseSpace(space, file)));
  const steps = Object.fromEntries(Object.keys(state.made).map((prefix) => [prefix, defined.get(prefix) ?? null]));
  return { ...state, version: 2, settings, steps };
}

async function readState(out: string, settings: unknown, teacher: EncoderConfig, list: readonly Candidate[]): Promise<State> {
  const file = join(out, STATE_FILE);
  if (!existsSync(file)) return { format: 'xlmt-compress-search', version: 2, settings, teacher: null, timings: null, made: {}, steps: {}, scored: {} };
  const state = upgrade(JSON.parse(await readFile(file, 'utf8')) as StateV1 | State, teacher, file);
  if (JSON.stringify(state.settings) !== JSON.stringify(settings)) {
    throw new XlmtError({ code: 'RUN_SETTINGS_CHANGED', where: { file: out }, message: 'holds a search with another teacher, data or timing (--threads is part of the timing)', received: file, hint: 'resume with the same settings (the budget, --exhaustive and the space may change), or choose another --out' });
  }
  for (const [prefix, steps] of prefixes(list)) {
    if (state.made[prefix] === undefined || JSON.stringify(state.steps[prefix]) === JSON.stringify(steps)) continue;
    throw new XlmtError({
      code: 'RUN_SETTINGS_CHANGED', where: { file: out, field: prefix }, received: file,
      message: `the space redefines step ${prefix}, already made with other settings (${JSON.stringify(state.steps[prefix])}, now ${JSON.stringify(steps)})`,
      hint: "keep that step's settings (a space may add or drop candidates), or choose another --out",
    });
  }
  return state;
}

const saveState = (out: string, state: State): Promise<void> => writeFileAtomic(join(out, STATE_FILE), [new TextEncoder().encode(`${JSON.stringify(state, null, 2)}\n`)]);

/** The given shapes timed in one interleaved run with the teacher's, random weights, fp32 and int8. */
async function timeSpace(teacherDir: string, list: readonly Candidate[], o: SearchOptions, log: (l: string) => void): Promise<Timings> {
  const { config: hf } = await readHfConfig(join(teacherDir, CONFIG_FILE));
  const shapes = new Map([[TEACHER_KEY, hf.encoder], ...list.map((c) => [c.shapeKey, c.shape] as const)]);
  const rows = await timeShapes({ name: 'search', hf, shapes: [...shapes] }, {
    ...INFER_BENCH_DEFAULTS, models: [], batch: o.speed.batch, seq: o.speed.seq, threads: o.speed.threads, iterations: o.speed.iterations, warmup: 1,
  }, log);
  const ms = (key: string, variant: string): number => rows.find((r) => r.shape === key && r.variant === variant)?.msPerBatch ?? Number.NaN;
  const teacherFp32 = ms(TEACHER_KEY, 'fp32');
  return Object.fromEntries([...shapes.keys()].map((key) => [key, { fp32: ms(key, 'fp32'), int8: ms(key, 'int8'), teacherFp32 }]));
}

export async function runSearch(o: SearchOptions, events: CompressEvents): Promise<SearchResult & { teacher: ModelLine; lines: Record<string, ModelLine> }> {
  const teacherDir = resolveModelDir(o.teacher, '--teacher');
  const inputs = [...inputsOf({ '--teacher': o.teacher, '--train': o.train, '--dev': o.dev, '--tasks': o.tasks, '--transfer': o.transfer }), ...teacherModelInputs(o.teacherModels)];
  const output: OutputSpec = { command: 'compress', path: o.out, inputs };
  checkOutputDir(output, 'write into');
  const teacherConfig = (await readHfConfig(join(teacherDir, CONFIG_FILE))).config.encoder;
  const list = candidates(teacherConfig, o.space);
  const state = await readState(o.out, settingsOf(o), teacherConfig, list);
  await claimOutputDir(output);
  await mkdir(join(o.out, 'reports'), { recursive: true });
  await saveState(o.out, state); // an earlier format's state, upgraded
  const recipeOptions = { ...o, recipe: { steps: [] } };
  const spent = (state.spent ??= {});
  const since = (started: number): number => (performance.now() - started) / 1000;
  const teacherStarted = state.teacher === null ? performance.now() : null;
  const teacher = await teacherLine(state, teacherDir, recipeOptions, 'teacher.md', async () => {
    if (teacherStarted !== null) spent.teacher = since(teacherStarted);
    await saveState(o.out, state);
  });
  events.onLine?.(teacher);
  const untimed = list.filter((c) => state.timings?.[c.shapeKey] === undefined);
  if (state.timings === null || untimed.length > 0) {
    const count = new Set(untimed.map((c) => c.shapeKey)).size;
    events.log(`== timing ${count} shape${count === 1 ? '' : 's'} and the teacher's, fp32 and int8, random weights`);
    const started = performance.now();
    const fresh = await timeSpace(teacherDir, untimed, o, events.log);
    spent.timing = (spent.timing ?? 0) + since(started);
    // The teacher's own entry stays that of the first run: a model made is measured against the teacher's line.
    state.timings = { ...fresh, ...state.timings };
    await saveState(o.out, state);
  }
  const timings = state.timings;
  const expectedSpeedup = (c: Candidate): number => {
    const t = timings[c.shapeKey];
    const teacherMs = t?.teacherFp32 ?? timings[TEACHER_KEY]?.fp32 ?? Number.NaN;
    return t ? teacherMs / (c.int8 ? t.int8 : t.fp32) : Number.NaN;
  };

  const result = await searchBudget(list, teacher, o.budget, {
    expectedSpeedup,
    log: events.log,
    score: async (c) => {
      const done = state.scored[c.id];
      if (done) return done;
      const started = performance.now();
      let current = teacherDir;
      for (const [i, step] of c.steps.entries()) {
        const { name: prefix, definition } = stepPrefix(c, i + 1);
        const made = state.made[prefix];
        if (made) {
          current = made;
          continue;
        }
        events.log(`== ${prefix}, from ${current}`);
        current = await runStep(step, current, join(o.out, prefix), recipeOptions, events);
        state.made[prefix] = current;
        state.steps[prefix] = definition;
        await saveState(o.out, state);
        await slimAfterStep(prefix, join(o.out, prefix), o.keepCheckpoints, events.log);
      }
      const { line, scores } = await measure(c.id, current, recipeOptions, teacher, since(started));
      await writeFile(join(o.out, 'reports', `${c.id}.md`), reportFile(c.id, line, scores));
      state.scored[c.id] = line;
      spent[c.id] = since(started);
      await saveState(o.out, state);
      events.onLine?.(line);
      return line;
    },
    // search.md and pareto.svg as they stand after every candidate: the answer so far can be read while it runs.
    progress: (sofar) => writeReport(o, teacher, sofar, state, false),
  }, o.exhaustive);
  await writeReport(o, teacher, result, state, true);
  return { ...result, teacher, lines: state.scored };
}

async function writeReport(o: SearchOptions, teacher: ModelLine, result: SearchResult, state: State, done: boolean): Promise<void> {
  const points: Point[] = [
    { id: 'teacher', speedup: 1, degradation: 0, within: true },
    ...result.outcomes.flatMap((x) => (x.status === 'not tried' ? [] : [{ id: x.id, speedup: x.scored.speedup ?? x.expected, degradation: x.scored.degradation, within: x.status === 'within' }])),
  ];
  await writeFile(join(o.out, 'pareto.svg'), paretoSvg(points, o.budget.mean, `Compression of ${o.teacher}: speedup against degradation`));
  await writeFile(join(o.out, 'search.md'), searchReport(o, teacher, result, state, points, done));
}

/**
 * The search's own time when each candidate was decided: the teacher's line, the timing and every candidate tried
 * up to it, made and scored (the runs of a resumed search added up); null where a part was not recorded.
 */
export function searchClock(outcomes: readonly Outcome[], spent: Readonly<Record<string, number>>): (number | null)[] {
  let clock: number | null = spent.teacher !== undefined && spent.timing !== undefined ? spent.teacher + spent.timing : null;
  return outcomes.map((x) => {
    const seconds = spent[x.id];
    if (x.status !== 'not tried') clock = clock === null || seconds === undefined ? null : clock + seconds;
    return clock;
  });
}

function searchReport(o: SearchOptions, teacher: ModelLine, result: SearchResult, state: State, points: readonly Point[], done: boolean): string {
  const lines = state.scored;
  const tasks = teacher.tasks.map((t) => t.task);
  const clock = searchClock(result.outcomes, state.spent ?? {});
  const minutes = (s: number | null | undefined): string => (s === null || s === undefined ? '–' : `${(s / 60).toFixed(1)} min`);
  const at = (id: string | null): string => minutes(clock[result.outcomes.findIndex((x) => x.id === id)]);
  const f1 = (l: ModelLine, task: string): string => (100 * (l.tasks.find((t) => t.task === task)?.macroF1 ?? Number.NaN)).toFixed(1);
  const rows = result.outcomes.map((x, i) => {
    const l = lines[x.id];
    const measured = l ? `${l.speedup?.toFixed(2) ?? '–'}× | ${tasks.map((t) => f1(l, t)).join(' | ')} | ${(100 * l.meanMacroF1).toFixed(1)} | ${l.degradation.toFixed(2)}` : `– | ${tasks.map(() => '–').join(' | ')} | – | –`;
    const status = x.status === 'not tried' ? `not tried: ${x.why}` : x.status === 'within' ? 'within' : `over: ${x.check.over.join('; ')}`;
    return `| ${i + 1} | ${x.id} | ${x.expected.toFixed(2)}× | ${measured} | ${status} | ${x.status === 'not tried' ? '' : minutes(clock[i])} |`;
  });
  const answer = result.answer === null
    ? `${done ? 'none' : 'none yet'}: no candidate tried is within the budget`
    : `${result.answer} (${lines[result.answer]?.model ?? ''}), decided at ${at(result.answer)} of search`;
  const first = result.first !== null && result.first !== result.answer ? ` The first within the budget: ${result.first}, at ${at(result.first)}.` : '';
  return [
    `# Compression search from ${o.teacher}`, '',
    `Budget on ${o.dev}: ${describeBudget(o.budget)} relative macro-F1 degradation against the teacher (mean ${(100 * teacher.meanMacroF1).toFixed(1)}).`,
    `Speed: ${o.speed.batch} × ${o.speed.seq} tokens, ${o.speed.threads} threads, median of ${o.speed.iterations}; "expected" is timed on each shape with random weights before anything was made, "speedup" on the model made.`,
    `Search: ${o.exhaustive ? 'every candidate scored' : 'the untrained candidates first, then the trained ones fastest expected first, none expected no faster than the best within the budget'}. "At" is the search's own time when a candidate was decided: the teacher's line (${minutes(state.spent?.teacher)}), the timing (${minutes(state.spent?.timing)}) and the candidates tried up to it, made and scored.`,
    ...(done ? [] : ['', `**In progress: ${result.outcomes.length} candidate${result.outcomes.length === 1 ? '' : 's'} decided so far.**`]), '',
    `**${done ? 'Answer' : 'Answer so far'}: ${answer}.**${first}`, '',
    `| # | candidate | expected | speedup | ${tasks.join(' | ')} | mean | Δ% | budget | at |`,
    `|---:|---|---:|---:|${tasks.map(() => '---:|').join('')}---:|---:|---|---:|`,
    ...rows, '',
    '## Pareto front', '',
    'Of the teacher and the candidates scored; `pareto.svg` draws it.', '',
    paretoTable(points),
  ].join('\n');
}
