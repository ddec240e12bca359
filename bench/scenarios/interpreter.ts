/**
 * Interpreter throughput, in process: flowrun's run loop against the aws-local-stepfunctions
 * package running the equivalent Amazon States Language machine, in the same process and run.
 */
import { StateMachine } from 'aws-local-stepfunctions';
import { loadFlowText } from '../../src/flow/load.js';
import type { CompiledFlow } from '../../src/flow/graph.js';
import { runExecution } from '../../src/interpreter/run.js';
import type { TaskRunner } from '../../src/engine/types.js';
import type { JsonObject } from '../../src/shared/json.js';
import { CHAIN_INPUT, CHAIN_LENGTH, chainDefinition, mapDefinition } from '../flows.js';
import { rate, summarize } from '../stats.js';
import type { Goal, Scenario, ScenarioOptions, ScenarioResult } from './types.js';

const noTasks: TaskRunner = () => Promise.reject(new Error('no tasks in this benchmark'));

function chainFlow(): CompiledFlow {
  return loadFlowText(JSON.stringify(chainDefinition()));
}

function chainAsl(): StateMachine {
  const states: Record<string, unknown> = {};
  for (let i = 0; i < CHAIN_LENGTH; i++) {
    states[`S${i}`] = {
      Type: 'Pass',
      Parameters: { 'id.$': '$.id', 'user.$': '$.user', 'tags.$': '$.tags', step: i },
      ...(i === CHAIN_LENGTH - 1 ? { End: true } : { Next: `S${i + 1}` }),
    };
  }
  return new StateMachine({ StartAt: 'S0', States: states } as ConstructorParameters<typeof StateMachine>[0]);
}

function mapFlow(): CompiledFlow {
  return loadFlowText(JSON.stringify(mapDefinition('map', [{ Type: 'Pass', Name: 'P', OutputConstructor: { 'v.$': '$Input.v' }, End: true }])));
}

function mapAsl(): StateMachine {
  return new StateMachine({
    StartAt: 'M',
    States: {
      M: {
        Type: 'Map',
        ItemsPath: '$.items',
        MaxConcurrency: 40,
        Iterator: { StartAt: 'P', States: { P: { Type: 'Pass', Parameters: { 'v.$': '$.v' }, End: true } } },
        End: true,
      },
    },
  } as ConstructorParameters<typeof StateMachine>[0]);
}

async function compare(
  name: string,
  description: string,
  statesPerExecution: number,
  ours: () => Promise<unknown>,
  theirs: () => Promise<unknown>,
  options: ScenarioOptions,
  goal: Goal,
): Promise<ScenarioResult> {
  const a: number[] = [];
  const b: number[] = [];
  await rate(ours, 200); // warm up
  await rate(theirs, 200);
  for (let t = 0; t < options.trials; t++) {
    // Alternate so drift on a shared machine hits both sides alike.
    a.push(await rate(ours, options.ms));
    b.push(await rate(theirs, options.ms));
  }
  const ratios = a.map((x, i) => x / (b[i] as number));
  const ourSummary = summarize(a);
  return {
    name,
    description,
    unit: 'executions/s',
    flowrun: ourSummary,
    baseline: { name: 'aws-local-stepfunctions', ...summarize(b) },
    ratio: summarize(ratios),
    goal,
    extra: { stateTransitionsPerSecond: Math.round(ourSummary.median * statesPerExecution) },
  };
}

/** The goal for both interpreter scenarios: at least 20x aws-local-stepfunctions. */
const INTERPRETER_GOAL: Goal = { op: '>=', value: 20 };

export const interpreterChain: Scenario = {
  name: 'interpreter-chain',
  defaults: { trials: 5, ms: 1000 },
  async run(options) {
    const flow = chainFlow();
    const asl = chainAsl();
    const input: JsonObject = CHAIN_INPUT;
    const ours = (): Promise<unknown> => runExecution(flow, input, { tasks: noTasks });
    const theirs = (): Promise<unknown> => asl.run(input).result;
    return [await compare('interpreter-chain', `${CHAIN_LENGTH}-state Pass chain with constructors`, CHAIN_LENGTH, ours, theirs, options, INTERPRETER_GOAL)];
  },
};

export const interpreterMap: Scenario = {
  name: 'interpreter-map',
  defaults: { trials: 5, ms: 1000 },
  async run(options) {
    const items = Array.from({ length: 1000 }, (_, i) => ({ v: i }));
    const flow = mapFlow();
    const asl = mapAsl();
    const ours = (): Promise<unknown> => runExecution(flow, { items }, { tasks: noTasks });
    const theirs = (): Promise<unknown> => asl.run({ items }).result;
    return [await compare('interpreter-map', 'Map over 1,000 items (Pass processor, concurrency 40)', 1001, ours, theirs, options, INTERPRETER_GOAL)];
  },
};
