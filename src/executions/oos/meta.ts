/**
 * What an OOS execution keeps beside the interpreter state. The store's executions have free-form
 * `tags`; the service keeps its own metadata under one reserved key (OOS tag keys may not start
 * with `acs:`, so it cannot clash with a user tag) and shows the rest as the execution's Tags.
 */
import { isJsonObject } from '../../shared/json.js';
import type { Json, JsonObject } from '../../shared/json.js';

/** The tags key holding {@link ExecutionMeta}. */
export const META_TAG = 'acs:oos:execution';

export const EXECUTION_MODES = ['Automatic', 'Debug', 'FailurePause'] as const;
export type ExecutionModeName = (typeof EXECUTION_MODES)[number];
export const SAFETY_CHECKS = ['ConfirmEveryHighRiskAction', 'Skip'] as const;
export type SafetyCheck = (typeof SAFETY_CHECKS)[number];
export const LOOP_MODES = ['Automatic', 'FirstBatchPause', 'EveryBatchPause'] as const;

export interface ExecutionMeta {
  Mode: ExecutionModeName;
  SafetyCheck: SafetyCheck;
  LoopMode: string;
  Description: string;
  TemplateId: string;
  /** `v1`…, '' for TemplateContent executions. */
  TemplateVersion: string;
  /** The content run, kept only for TemplateContent executions (no stored definition). */
  Content?: string;
  /** 0 for a top-level execution, parent's + 1 for a child. */
  Depth: number;
  /** Template names from the top-level execution down to this one (cycle checks). */
  Chain: string[];
  /** The parent's task that started this child (ACS::Template). */
  ParentTaskName?: string;
  RamRole: string;
  ResourceGroupId: string;
  ExecutedBy: string;
}

const text = (o: JsonObject, k: string, d = ''): string => (typeof o[k] === 'string' ? (o[k] as string) : d);

/** The metadata of an execution (defaults for anything missing). */
export function metaOf(tags: JsonObject): ExecutionMeta {
  const raw = tags[META_TAG];
  const m: JsonObject = raw !== undefined && isJsonObject(raw) ? raw : {};
  const mode = text(m, 'Mode', 'Automatic');
  const safety = text(m, 'SafetyCheck', 'ConfirmEveryHighRiskAction');
  const chain = Array.isArray(m['Chain']) ? m['Chain'].filter((x): x is string => typeof x === 'string') : [];
  const meta: ExecutionMeta = {
    Mode: (EXECUTION_MODES as readonly string[]).includes(mode) ? (mode as ExecutionModeName) : 'Automatic',
    SafetyCheck: (SAFETY_CHECKS as readonly string[]).includes(safety) ? (safety as SafetyCheck) : 'ConfirmEveryHighRiskAction',
    LoopMode: text(m, 'LoopMode', 'Automatic'),
    Description: text(m, 'Description'),
    TemplateId: text(m, 'TemplateId'),
    TemplateVersion: text(m, 'TemplateVersion'),
    Depth: typeof m['Depth'] === 'number' ? m['Depth'] : 0,
    Chain: chain,
    RamRole: text(m, 'RamRole'),
    ResourceGroupId: text(m, 'ResourceGroupId'),
    ExecutedBy: text(m, 'ExecutedBy'),
  };
  if (typeof m['Content'] === 'string') meta.Content = m['Content'];
  if (typeof m['ParentTaskName'] === 'string') meta.ParentTaskName = m['ParentTaskName'];
  return meta;
}

/** The store tags of a new execution: the user's tags plus the metadata. */
export function tagsWithMeta(userTags: JsonObject, meta: ExecutionMeta): JsonObject {
  const m: JsonObject = { ...meta, Chain: [...meta.Chain] };
  return { ...userTags, [META_TAG]: m };
}

/** The execution's Tags as the API shows them (the metadata left out). */
export function userTagsOf(tags: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(tags)) if (k !== META_TAG) out[k] = v as Json;
  return out;
}
