/**
 * Template parameters: their declarations, and the check of an execution's `Parameters` at
 * StartExecution. Each template's parameter schema is compiled with ajv once (when the template is
 * compiled); a check applies Defaults, coerces values, then validates.
 *
 * Coercion (UNCONFIRMED rules, chosen to accept what the console and CLIs send): String accepts
 * numbers and booleans (as text); Number accepts numeric strings; Boolean accepts 'true'/'false'
 * (any case); List and Json accept a string holding JSON of that shape. AllowedPattern must match
 * the whole value (it is anchored). Errors: `MissingExecutionParameter` (no value, no Default),
 * `UnknownExecutionParameter` (not declared), `TemplateValidationError` (type or constraint).
 */
import { Ajv } from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { FlowrunError } from '../shared/errors.js';
import { isJsonObject, jsonTypeName } from '../shared/json.js';
import type { Json, JsonObject } from '../shared/json.js';
import { OosApiErrorCodes } from './errors.js';
import type { Problem } from './errors.js';
import type { OosEnv, OosValue } from './values.js';

export type ParameterType = 'String' | 'Number' | 'Boolean' | 'List' | 'Json';

/** One declared parameter, as compiled. */
export interface TemplateParameter {
  name: string;
  type: ParameterType;
  /** Whether the parameter has a Default (then it is optional). */
  hasDefault: boolean;
  /** The Default, compiled (it may hold references such as `{{ ACS::RegionId }}`). */
  defaultValue: OosValue | undefined;
  /** The declaration as written (Description, Label, AllowedValues, …). */
  declaration: JsonObject;
}

// `unicodeRegExp: false`: AllowedPattern regexes compile without the `u` flag, so V8's linear-time
// fallback (enabled by the server) bounds a catastrophic pattern.
const ajv = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true, unicodeRegExp: false });

const JSON_TYPES: Record<ParameterType, string | undefined> = { String: 'string', Number: 'number', Boolean: 'boolean', List: 'array', Json: undefined };

/** The JSON schema of one parameter's value (constraints that apply to its type). */
export function parameterValueSchema(type: ParameterType, decl: JsonObject): JsonObject {
  const schema: JsonObject = {};
  const jsonType = JSON_TYPES[type];
  if (jsonType) schema['type'] = jsonType;
  if (Array.isArray(decl['AllowedValues']) && decl['AllowedValues'].length > 0) schema['enum'] = decl['AllowedValues'].map((v) => coerce(type, v));
  if (type === 'String') {
    if (typeof decl['AllowedPattern'] === 'string' && isRegExp(decl['AllowedPattern'])) schema['pattern'] = `^(?:${decl['AllowedPattern']})$`;
    if (typeof decl['MinLength'] === 'number') schema['minLength'] = decl['MinLength'];
    if (typeof decl['MaxLength'] === 'number') schema['maxLength'] = decl['MaxLength'];
  }
  if (type === 'Number') {
    if (typeof decl['MinValue'] === 'number') schema['minimum'] = decl['MinValue'];
    if (typeof decl['MaxValue'] === 'number') schema['maximum'] = decl['MaxValue'];
  }
  return schema;
}

function isRegExp(source: string): boolean {
  try {
    new RegExp(`^(?:${source})$`, 'u');
    return true;
  } catch {
    return false;
  }
}

/** Converts a given value towards the parameter's type (see the module comment); others unchanged. */
export function coerce(type: ParameterType, value: Json): Json {
  switch (type) {
    case 'String':
      return typeof value === 'number' || typeof value === 'boolean' ? String(value) : value;
    case 'Number':
      return typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)) ? Number(value) : value;
    case 'Boolean': {
      if (typeof value !== 'string') return value;
      const t = value.trim().toLowerCase();
      return t === 'true' ? true : t === 'false' ? false : value;
    }
    case 'List':
    case 'Json': {
      if (typeof value !== 'string' || !/^\s*[[{]/.test(value)) return value;
      try {
        const parsed = JSON.parse(value) as Json;
        return type === 'List' && !Array.isArray(parsed) ? value : parsed;
      } catch {
        return value;
      }
    }
  }
}

/** Checks a declaration's own constraints (regex, bounds); returns problems under `pointer`. */
export function declarationProblems(decl: JsonObject, pointer: string): Problem[] {
  const problems: Problem[] = [];
  if (typeof decl['AllowedPattern'] === 'string') {
    try {
      new RegExp(decl['AllowedPattern'], 'u');
    } catch (err) {
      problems.push({ pointer: `${pointer}/AllowedPattern`, message: `is not a valid regular expression: ${(err as Error).message}` });
    }
  }
  const pairs: [string, string][] = [
    ['MinLength', 'MaxLength'],
    ['MinValue', 'MaxValue'],
  ];
  for (const [lo, hi] of pairs) {
    const a = decl[lo];
    const b = decl[hi];
    if (typeof a === 'number' && typeof b === 'number' && a > b) problems.push({ pointer: `${pointer}/${lo}`, message: `${lo} (${a}) is larger than ${hi} (${b})` });
  }
  if (Array.isArray(decl['AllowedValues']) && decl['AllowedValues'].length === 0) {
    problems.push({ pointer: `${pointer}/AllowedValues`, message: 'must list at least one value' });
  }
  return problems;
}

/** Checks one value against its parameter's compiled schema; returns sentences. */
function describeErrors(name: string, errors: ErrorObject[], value: Json): string[] {
  return errors.map((e) => {
    const p = e.params as Record<string, unknown>;
    switch (e.keyword) {
      case 'type':
        return `parameter '${name}' must be ${String(p['type']) === 'array' ? 'a list' : `a ${String(p['type'])}`}, got ${jsonTypeName(value)} ${JSON.stringify(value)}`;
      case 'enum':
        return `parameter '${name}' must be one of ${(p['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ')}, got ${JSON.stringify(value)}`;
      case 'pattern':
        return `parameter '${name}' must match the pattern ${String(p['pattern']).replace(/^\^\(\?:(.*)\)\$$/, '$1')}, got ${JSON.stringify(value)}`;
      case 'minLength':
      case 'maxLength':
        return `parameter '${name}' must have ${e.keyword === 'minLength' ? 'at least' : 'at most'} ${String(p['limit'])} characters, got ${typeof value === 'string' ? value.length : '?'}`;
      case 'minimum':
      case 'maximum':
        return `parameter '${name}' must be ${e.keyword === 'minimum' ? 'at least' : 'at most'} ${String(p['limit'])}, got ${JSON.stringify(value)}`;
      default:
        return `parameter '${name}' ${e.message ?? 'is invalid'}`;
    }
  });
}

interface CompiledParameter extends TemplateParameter {
  validate: ValidateFunction;
}

/** The parameter checker of one template (schemas compiled once). */
export class ParameterChecker {
  private readonly compiled: CompiledParameter[];

  constructor(parameters: readonly TemplateParameter[]) {
    this.compiled = parameters.map((p) => {
      let validate: ValidateFunction;
      try {
        validate = ajv.compile(parameterValueSchema(p.type, p.declaration));
      } catch {
        // A declaration ajv cannot compile was reported when the template was validated.
        validate = ajv.compile({});
      }
      return { ...p, validate };
    });
  }

  /** Problems of a value (after coercion) for `name`; empty when valid. */
  valueProblems(name: string, value: Json): string[] {
    const p = this.compiled.find((c) => c.name === name);
    if (!p) return [`parameter '${name}' is not declared`];
    const v = coerce(p.type, value);
    return p.validate(v) ? [] : describeErrors(name, p.validate.errors ?? [], v);
  }

  /**
   * The execution's parameters: the given ones (coerced) plus Defaults. Throws a FlowrunError with
   * code MissingExecutionParameter, UnknownExecutionParameter or TemplateValidationError;
   * `details.Problems` lists every problem found.
   */
  check(given: unknown, env: OosEnv): JsonObject {
    let input: unknown = given ?? {};
    if (typeof input === 'string') {
      try {
        input = input.trim() === '' ? {} : (JSON.parse(input) as unknown);
      } catch (err) {
        throw new FlowrunError(OosApiErrorCodes.TemplateValidationError, `Parameters is not valid JSON: ${(err as Error).message}`);
      }
    }
    if (!isJsonObject(input)) {
      throw new FlowrunError(OosApiErrorCodes.TemplateValidationError, `Parameters must be a JSON object, got ${jsonTypeName(input)}`);
    }
    const names = this.compiled.map((p) => p.name);
    const unknown = Object.keys(input).filter((k) => !names.includes(k));
    const missing: string[] = [];
    const invalid: string[] = [];
    const out: JsonObject = {};
    const scope: OosEnv = { ...env, parameters: out };
    for (const p of this.compiled) {
      let value: Json | undefined = Object.hasOwn(input, p.name) ? (input[p.name] as Json) : undefined;
      if (value === undefined && p.defaultValue) {
        try {
          value = p.defaultValue(scope);
        } catch (err) {
          invalid.push(`the Default of parameter '${p.name}' cannot be evaluated: ${(err as Error).message}`);
          continue;
        }
      }
      if (value === undefined) {
        missing.push(p.name);
        continue;
      }
      const v = coerce(p.type, value);
      if (!p.validate(v)) invalid.push(...describeErrors(p.name, p.validate.errors ?? [], v));
      out[p.name] = v;
    }
    const problems = [
      ...unknown.map((k) => `parameter '${k}' is not defined in the template${hint(k, names)}`),
      ...missing.map((k) => `parameter '${k}' has no Default and was not provided`),
      ...invalid,
    ];
    if (problems.length === 0) return out;
    const details = { Problems: problems, Unknown: unknown, Missing: missing };
    const code = unknown.length > 0 ? OosApiErrorCodes.UnknownExecutionParameter : missing.length > 0 ? OosApiErrorCodes.MissingExecutionParameter : OosApiErrorCodes.TemplateValidationError;
    const first =
      code === OosApiErrorCodes.UnknownExecutionParameter
        ? `The parameter ${unknown.join(', ')} was not defined in template.`
        : code === OosApiErrorCodes.MissingExecutionParameter
          ? `The parameter ${missing.join(', ')} was not provided.`
          : 'The parameters do not match the template.';
    throw new FlowrunError(code, `${first} ${problems.join('; ')}`, { details });
  }
}

function hint(name: string, names: string[]): string {
  const lower = name.toLowerCase();
  const near = names.find((n) => n.toLowerCase() === lower);
  return near ? ` (did you mean '${near}'?)` : names.length > 0 ? ` (parameters: ${names.join(', ')})` : ' (it declares no parameters)';
}
