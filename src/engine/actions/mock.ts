import { FlowrunError } from '../../shared/errors.js';
import { isJsonObject } from '../../shared/json.js';
import type { Json } from '../../shared/json.js';
import { invalidParameters } from '../errors.js';
import type { ActionDefinition, ActionRunContext } from '../types.js';

export const MOCK_ACTION = 'Mock';

export const mockParametersSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    result: {},
    error: {
      type: 'object',
      additionalProperties: false,
      required: ['Code'],
      properties: { Code: { type: 'string', minLength: 1 }, Detail: { type: 'string' }, Retryable: { type: 'boolean' } },
    },
    delaySeconds: { type: 'number', minimum: 0 },
  },
} as const;

/**
 * `Mock`: answers without side effects. Parameters `{ result?, error?: { Code, Detail?, Retryable? },
 * delaySeconds? }`: waits `delaySeconds` on the engine's clock (honouring the signal), then throws
 * `error` (as a FlowrunError, retryable only if `Retryable: true`) or returns `result` (default `{}`).
 */
export function createMockAction(): ActionDefinition {
  return {
    name: MOCK_ACTION,
    description: 'Returns `result` or fails with `error`, optionally after `delaySeconds`.',
    parametersSchema: mockParametersSchema,
    highRisk: false,
    run: runMock,
  };
}

async function runMock(parameters: Json, ctx: ActionRunContext): Promise<Json> {
  const bad = (message: string): FlowrunError => invalidParameters(MOCK_ACTION, message);
  const params = parameters ?? {};
  if (!isJsonObject(params)) throw bad('parameters must be an object');
  const { result, error, delaySeconds } = params;
  if (delaySeconds !== undefined && delaySeconds !== null) {
    if (typeof delaySeconds !== 'number' || !(delaySeconds >= 0)) throw bad('delaySeconds must be a number >= 0');
    if (delaySeconds > 0) await ctx.clock.sleep(delaySeconds * 1000, ctx.signal);
  }
  if (error !== undefined && error !== null) {
    if (!isJsonObject(error) || typeof error.Code !== 'string' || error.Code === '') throw bad('error must be an object with a Code');
    throw new FlowrunError(error.Code, typeof error.Detail === 'string' ? error.Detail : '', { retryable: error.Retryable === true });
  }
  return result === undefined ? {} : result;
}
