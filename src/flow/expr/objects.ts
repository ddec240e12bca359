import type { Json, JsonObject } from '../../shared/json.js';
import type { EvalScope, Evaluator } from './types.js';
import { internalize, setOwn } from './values.js';

export type ObjectEvaluator = (scope: EvalScope) => JsonObject;

/**
 * A closure building `{[keys[i]]: evs[i](scope)}`. Objects with up to 8 keys are built with an
 * object literal with computed keys (an order of magnitude faster in V8 than assigning keys in a
 * loop, and a computed `__proto__` key creates an own property); further keys are assigned one
 * by one. Keys must be distinct.
 */
export function objectBuilder(keyList: readonly string[], evs: readonly Evaluator[]): ObjectEvaluator {
  const keys = keyList.map(internalize);
  const n = keys.length;
  if (n > 8) {
    const head = objectBuilder(keys.slice(0, 8), evs.slice(0, 8));
    const restKeys = keys.slice(8);
    const restEvs = evs.slice(8);
    const m = restKeys.length;
    return (s) => {
      const out = head(s);
      for (let i = 0; i < m; i++) setOwn(out, restKeys[i] as string, (restEvs[i] as Evaluator)(s));
      return out;
    };
  }
  const [k0, k1, k2, k3, k4, k5, k6, k7] = keys as [string, string, string, string, string, string, string, string];
  const [v0, v1, v2, v3, v4, v5, v6, v7] = evs as [Evaluator, Evaluator, Evaluator, Evaluator, Evaluator, Evaluator, Evaluator, Evaluator];
  switch (n) {
    case 0:
      return () => ({});
    case 1:
      return (s) => ({ [k0]: v0(s) });
    case 2:
      return (s) => ({ [k0]: v0(s), [k1]: v1(s) });
    case 3:
      return (s) => ({ [k0]: v0(s), [k1]: v1(s), [k2]: v2(s) });
    case 4:
      return (s) => ({ [k0]: v0(s), [k1]: v1(s), [k2]: v2(s), [k3]: v3(s) });
    case 5:
      return (s) => ({ [k0]: v0(s), [k1]: v1(s), [k2]: v2(s), [k3]: v3(s), [k4]: v4(s) });
    case 6:
      return (s) => ({ [k0]: v0(s), [k1]: v1(s), [k2]: v2(s), [k3]: v3(s), [k4]: v4(s), [k5]: v5(s) });
    case 7:
      return (s) => ({ [k0]: v0(s), [k1]: v1(s), [k2]: v2(s), [k3]: v3(s), [k4]: v4(s), [k5]: v5(s), [k6]: v6(s) });
    default:
      return (s) => ({ [k0]: v0(s), [k1]: v1(s), [k2]: v2(s), [k3]: v3(s), [k4]: v4(s), [k5]: v5(s), [k6]: v6(s), [k7]: v7(s) });
  }
}

/** A closure building an array from element evaluators. */
export function arrayBuilder(evs: readonly Evaluator[]): (scope: EvalScope) => Json[] {
  const n = evs.length;
  switch (n) {
    case 0:
      return () => [];
    case 1: {
      const [a] = evs as [Evaluator];
      return (s) => [a(s)];
    }
    case 2: {
      const [a, b] = evs as [Evaluator, Evaluator];
      return (s) => [a(s), b(s)];
    }
    default:
      return (s) => {
        const out: Json[] = new Array<Json>(n);
        for (let i = 0; i < n; i++) out[i] = (evs[i] as Evaluator)(s);
        return out;
      };
  }
}
