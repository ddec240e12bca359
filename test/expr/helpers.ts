import type { Json, JsonObject } from '../../src/shared/json.js';
import type { EvalScope } from '../../src/flow/expr/index.js';
import { compileExpression } from '../../src/flow/expr/index.js';
import { ExpressionSyntaxError } from '../../src/flow/expr/index.js';
import { FlowrunError } from '../../src/shared/errors.js';

export interface ScopeParts {
  input?: Json;
  output?: Json;
  global?: JsonObject;
  context?: JsonObject;
}

export function scope(parts: ScopeParts = {}): EvalScope {
  const ctx = parts.context ?? { Execution: { Name: 'exec-1', Input: { x: 1 } }, Current: { Name: 'S1', Input: parts.input ?? {}, RetryCount: 0 } };
  return {
    input: parts.input ?? {},
    output: parts.output,
    global: parts.global ?? {},
    context: () => ctx,
  };
}

/** Compiles with $Output allowed and evaluates against the given parts. */
export function evaluate(source: string, parts: ScopeParts = {}): Json {
  return compileExpression(source, { allowOutput: true })(scope(parts));
}

/** The ExpressionSyntaxError thrown when compiling `source` (fails the test if none). */
export function syntaxError(source: string, options: { allowOutput?: boolean } = { allowOutput: true }): ExpressionSyntaxError {
  try {
    compileExpression(source, options);
  } catch (e) {
    if (e instanceof ExpressionSyntaxError) return e;
    throw e;
  }
  throw new Error(`expected a syntax error for ${source}`);
}

/** The FlowrunError thrown when evaluating (fails the test if none). */
export function runtimeFailure(source: string, parts: ScopeParts = {}): FlowrunError {
  const ev = compileExpression(source, { allowOutput: true });
  try {
    ev(scope(parts));
  } catch (e) {
    if (e instanceof FlowrunError) return e;
    throw e;
  }
  throw new Error(`expected a runtime error for ${source}`);
}
