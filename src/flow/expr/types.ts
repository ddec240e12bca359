import type { Json, JsonObject } from '../../shared/json.js';

/** The variables an expression can read. Built by the interpreter for each evaluation. */
export interface EvalScope {
  /** `$Input`. */
  input: Json;
  /** `$Output` (undefined where not available). */
  output?: Json;
  /** `$Global`. */
  global: JsonObject;
  /**
   * `$Context`, built lazily by the caller:
   * `{Execution:{Name,Input,...}, Current:{Name,Input,Output?,Error?,RetryCount}}`.
   * Called once per evaluation of each `$Context…` path, so callers should cache the object.
   */
  context(): JsonObject;
}

/** A compiled expression: a closure over precomputed data, cheap to call many times. */
export type Evaluator = (scope: EvalScope) => Json;

export interface ExpressionOptions {
  /** Whether `$Output` may be used (OutputConstructor / GlobalConstructor). Default false. */
  allowOutput?: boolean;
}
