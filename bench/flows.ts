/**
 * Flow definitions shared by the benchmark scenarios and the benchmark servers, so that the
 * in-process and the HTTP scenarios run exactly the same flows.
 */
import type { JsonObject } from '../src/shared/json.js';

export const CHAIN_LENGTH = 10;
export const CHAIN_FLOW_NAME = 'chain';

/** The input every chain execution gets. */
export const CHAIN_INPUT: JsonObject = { id: 'abc-123', user: { name: 'ann', plan: 'pro' }, tags: ['a', 'b'] };

/** A chain of {@link CHAIN_LENGTH} Pass states, each with an OutputConstructor reading `$Input`. */
export function chainDefinition(name = CHAIN_FLOW_NAME): JsonObject {
  const states = Array.from({ length: CHAIN_LENGTH }, (_, i) => ({
    Type: 'Pass',
    Name: `S${i}`,
    OutputConstructor: { 'id.$': '$Input.id', 'user.$': '$Input.user', 'tags.$': '$Input.tags', step: i },
    ...(i === CHAIN_LENGTH - 1 ? { End: true } : { Next: `S${i + 1}` }),
  }));
  return { Type: 'StateMachine', Name: name, SpecVersion: 'v1', StartAt: 'S0', States: states };
}

/** A Map over `$Input.items` with the given processor states (one scope). */
export function mapDefinition(name: string, processor: JsonObject[], maxConcurrency = 40): JsonObject {
  const first = processor[0];
  if (!first) throw new Error('a Map processor needs a state');
  return {
    Type: 'StateMachine',
    Name: name,
    SpecVersion: 'v1',
    StartAt: 'M',
    States: [
      {
        Type: 'Map',
        Name: 'M',
        ItemsPath: '$Input.items',
        MaxConcurrency: maxConcurrency,
        Processor: { StartAt: first['Name'] as string, States: processor },
        End: true,
      },
    ],
  };
}

/** An express flow that parks in a Wait state for `seconds` (express flows allow 1–20 s). */
export function waitDefinition(name: string, seconds: number): JsonObject {
  return {
    Type: 'StateMachine',
    Name: name,
    SpecVersion: 'v1',
    ExecutionMode: 'Express',
    StartAt: 'Park',
    States: [
      { Type: 'Wait', Name: 'Park', Seconds: seconds, Next: 'Done' },
      { Type: 'Pass', Name: 'Done', End: true },
    ],
  };
}
