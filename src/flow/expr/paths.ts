import { JSONPath } from 'jsonpath-plus';
import type { Json, JsonObject } from '../../shared/json.js';
import { FlowrunError } from '../../shared/errors.js';
import { runtimeError } from './errors.js';
import type { PathRoot, PathSegment, PathSpec } from './lexer.js';
import type { EvalScope, Evaluator } from './types.js';
import { internalize } from './values.js';

/*
 * Missing paths evaluate to null (a deliberate choice; CloudFlow leaves it unspecified): a key that
 * is absent, an index out of range, or a step into a non-container (`$Input.a.b` where `a` is a
 * number) all yield null instead of failing. Conditions can then test `$Input.x == null`, and a
 * constructor copies null. Only own properties are read, so `$Input.constructor` is null too.
 */

/** The parts of a jsonpath-plus instance used here (`json` is what `@root` refers to in filters). */
interface JsonPathEngine {
  json: unknown;
  evaluate(path: string, json: unknown): unknown;
}

type RootGetter = (scope: EvalScope) => Json;

const ROOT_GETTERS: Record<PathRoot, RootGetter> = {
  Input: (s) => s.input,
  Output: (s) => (s.output === undefined ? null : s.output),
  Global: (s) => s.global,
  Context: (s) => s.context(),
};

/** A path step prepared for walking. */
interface Step {
  key: string;
  index: number | null;
  /** The key also names an Object.prototype member (`constructor`, `toString`, `__proto__`…): check it is an own property. */
  guard: boolean;
}

function prepare(seg: PathSegment): Step {
  return { key: internalize(seg.key), index: seg.index, guard: seg.key in Object.prototype };
}

/** One step of a simple path. */
function step(cur: Json, seg: Step): Json {
  if (cur === null || typeof cur !== 'object') return null;
  if (Array.isArray(cur)) {
    const i = seg.index;
    if (i === null) return null;
    const v = cur[i < 0 ? cur.length + i : i];
    return v === undefined ? null : v;
  }
  const v = (cur as JsonObject)[seg.key];
  if (v === undefined || (seg.guard && !Object.hasOwn(cur, seg.key))) return null;
  return v;
}

/** A walker over a precomputed list of steps (specialised for the common short paths). */
function simplePath(get: RootGetter, segments: readonly PathSegment[]): Evaluator {
  const segs = segments.map(prepare);
  const n = segs.length;
  if (n === 0) return get;
  const s0 = segs[0] as Step;
  if (n === 1) return (s) => step(get(s), s0);
  const s1 = segs[1] as Step;
  if (n === 2) return (s) => step(step(get(s), s0), s1);
  const s2 = segs[2] as Step;
  if (n === 3) return (s) => step(step(step(get(s), s0), s1), s2);
  return (s) => {
    let cur = get(s);
    for (let i = 0; i < n; i++) {
      cur = step(cur, segs[i] as Step);
      if (cur === null) return null;
    }
    return cur;
  };
}

/**
 * A path using JSONPath features, evaluated by jsonpath-plus. The path string is parsed once here
 * (jsonpath-plus caches its parse by path text; filter scripts are cached on first use). Indefinite
 * paths (wildcards, `..`, filters, slices, unions) give the array of matches; definite ones give
 * the single match or null.
 */
function jsonPathEvaluator(get: RootGetter, spec: PathSpec, jsonPath: string): Evaluator {
  JSONPath.toPathArray(jsonPath);
  const engine = JSONPath({ path: jsonPath, json: null, autostart: false, wrap: true, resultType: 'value', eval: 'safe' }) as unknown as JsonPathEngine;
  const definite = spec.definite;
  return (s) => {
    const root = get(s);
    let matches: unknown;
    // jsonpath-plus returns nothing for a falsy document.
    if (root !== null && typeof root === 'object') {
      engine.json = root;
      try {
        matches = engine.evaluate(jsonPath, root);
      } catch (e) {
        if (e instanceof FlowrunError) throw e;
        throw runtimeError(`The path ${spec.text} could not be evaluated: ${e instanceof Error ? e.message : String(e)}`);
      } finally {
        engine.json = null;
      }
    }
    const list = Array.isArray(matches) ? (matches as Json[]) : [];
    if (!definite) return list;
    const first = list[0];
    return first === undefined ? null : first;
  };
}

export function compilePath(spec: PathSpec): Evaluator {
  const get = ROOT_GETTERS[spec.root];
  return spec.jsonPath === null ? simplePath(get, spec.segments) : jsonPathEvaluator(get, spec, spec.jsonPath);
}
