/**
 * The FDL JSON schema (`schema/flow.schema.json`, shipped for users' editors) and its validator,
 * compiled once when this module loads. Also the TypeScript shape of a definition that passed
 * {@link validateDefinition}.
 *
 * The schema file is read with fs rather than imported: it lives outside `src/`, and the build
 * (tsconfig.build.json, rootDir `src`) must not pull it into `dist/`. From `src/flow/` (tsx,
 * vitest) and from `dist/flow/` (the built package) it is `../../schema/flow.schema.json` alike.
 */
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import type { AnySchemaObject, ValidateFunction } from 'ajv';
import addFormatsPlugin from 'ajv-formats';
import type { FormatsPlugin } from 'ajv-formats';
import type { JsonObject } from '../shared/json.js';

/** Where the schema file is, relative to this module (works from `src/flow` and `dist/flow`). */
export const FLOW_SCHEMA_URL = new URL('../../schema/flow.schema.json', import.meta.url);

/** The parsed schema document. Do not mutate it: the compiled validator shares its objects. */
export const flowSchema = JSON.parse(readFileSync(FLOW_SCHEMA_URL, 'utf8')) as AnySchemaObject;

/** The state kinds of the FDL, in the order messages list them. */
export const STATE_TYPES = ['Task', 'Pass', 'Wait', 'Choice', 'Parallel', 'Map', 'Succeed', 'Fail'] as const;
export type StateType = (typeof STATE_TYPES)[number];

export function isStateType(value: unknown): value is StateType {
  return typeof value === 'string' && (STATE_TYPES as readonly string[]).includes(value);
}

// ajv-formats is CommonJS with `export default`; under NodeNext the default import is the module
// object for the type checker but the plugin function at run time (or the reverse, by loader).
const addFormats: FormatsPlugin =
  typeof addFormatsPlugin === 'function' ? addFormatsPlugin : (addFormatsPlugin as unknown as { default: FormatsPlugin }).default;

/**
 * One ajv instance, one compile, at module load. `verbose` keeps each error's `parentSchema`,
 * which {@link schemaPathOf} turns back into a location in the schema document (ajv's own
 * `schemaPath` restarts at every `$ref`). `strictRequired` is off because `oneOf: [{required}]`
 * (Wait's "exactly one of Seconds, Seconds.$, ...") names properties defined one level up.
 */
const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, strictRequired: false, allowUnionTypes: true });
addFormats(ajv, ['date-time']);

/** Validates a document against the FDL schema; errors are in `.errors` (ajv format). */
export const validateFlowSchema: ValidateFunction = ajv.compile(flowSchema);

/** Every object of the schema document → its JSON pointer in the document ("/definitions/TaskState"). */
const schemaPaths = new Map<object, string>();
(function index(node: unknown, path: string): void {
  if (typeof node !== 'object' || node === null) return;
  if (!Array.isArray(node)) schemaPaths.set(node, path);
  for (const [key, child] of Object.entries(node)) index(child, `${path}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`);
})(flowSchema, '');

/** The JSON pointer inside the schema document of one of its (sub)schema objects. */
export function schemaPathOf(schemaObject: unknown): string | undefined {
  return typeof schemaObject === 'object' && schemaObject !== null ? schemaPaths.get(schemaObject) : undefined;
}

// ---------------------------------------------------------------------------------------------
// The shape of a valid definition (what validateDefinition guarantees when it returns []).

export type ExecutionModeName = 'Express' | 'Standard';
export type TaskModeName = 'RequestComplete' | 'WaitForCustomCallback' | 'WaitForSystemCallback';

export interface FlowDefinition {
  Type: 'StateMachine';
  SpecVersion: 'v1';
  Name?: string;
  Description?: string;
  /** flowrun extension for local files. */
  ExecutionMode?: ExecutionModeName;
  StartAt: string;
  States: StateDefinition[];
}

export interface ScopeDefinition {
  StartAt: string;
  States: StateDefinition[];
}

interface StateBase {
  Name: string;
  Description?: string;
  Next?: string;
  End?: boolean;
  InputConstructor?: JsonObject;
  OutputConstructor?: JsonObject;
  GlobalConstructor?: JsonObject;
}

export interface RetryRuleDefinition {
  Errors: string[];
  Description?: string;
  MaxAttempts?: number;
  IntervalSeconds?: number;
  BackoffRate?: number;
  MaxBackoffSeconds?: number;
}

export interface CatchRuleDefinition {
  Errors: string[];
  Description?: string;
  Next: string;
  OutputConstructor?: JsonObject;
}

/** Legacy (2023) error handling on Task states. */
export interface OnErrorRuleDefinition {
  Errors: string[];
  Description?: string;
  Retry?: { MaxAttempts?: number; FixedBackoff?: number; Multiplier?: number };
  Next?: string;
  OutputConstructor?: JsonObject;
}

export interface PassStateDefinition extends StateBase {
  Type: 'Pass';
}

export interface TaskStateDefinition extends StateBase {
  Type: 'Task';
  Action: string;
  TaskMode?: TaskModeName;
  Parameters?: JsonObject;
  /** Seconds, as a string of digits or an integer. */
  Timeout?: string | number;
  Retry?: RetryRuleDefinition[];
  Catch?: CatchRuleDefinition[];
  OnErrors?: OnErrorRuleDefinition[];
}

/** Exactly one of the four wait fields is present. */
export interface WaitStateDefinition extends StateBase {
  Type: 'Wait';
  Seconds?: number;
  'Seconds.$'?: string;
  UntilDateTime?: string;
  'UntilDateTime.$'?: string;
}

export interface ChoiceBranchDefinition {
  Condition: string;
  Next: string;
  Description?: string;
}

export interface ChoiceStateDefinition extends Omit<StateBase, 'Next' | 'End'> {
  Type: 'Choice';
  Branches: ChoiceBranchDefinition[];
  Default: string;
}

export interface ParallelStateDefinition extends StateBase {
  Type: 'Parallel';
  Branches: ScopeDefinition[];
  Retry?: RetryRuleDefinition[];
  Catch?: CatchRuleDefinition[];
}

export interface MapStateDefinition extends StateBase {
  Type: 'Map';
  ItemsPath: string;
  Processor: ScopeDefinition;
  MaxConcurrency?: number;
  /** The spelling of CloudFlow's documentation; an alias of MaxConcurrency. */
  MaxConcuccency?: number;
  Retry?: RetryRuleDefinition[];
  Catch?: CatchRuleDefinition[];
}

export interface SucceedStateDefinition extends Omit<StateBase, 'Next'> {
  Type: 'Succeed';
}

export interface FailStateDefinition extends Omit<StateBase, 'Next'> {
  Type: 'Fail';
  Code?: string;
  Detail: string;
}

export type StateDefinition =
  | PassStateDefinition
  | TaskStateDefinition
  | WaitStateDefinition
  | ChoiceStateDefinition
  | ParallelStateDefinition
  | MapStateDefinition
  | SucceedStateDefinition
  | FailStateDefinition;
