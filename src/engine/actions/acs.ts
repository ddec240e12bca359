/**
 * The OOS (ACS::*) actions, as task-engine ActionDefinitions, so OOS templates compiled to the
 * shared graph run on the same engine as flows.
 *
 * | action | parameters (resolved task Properties) | result |
 * |---|---|---|
 * | ACS::ExecuteAPI | Service, API, Parameters | the API response |
 * | ACS::WaitFor | + PropertySelector, DesiredValues / NotDesiredValues, StopRetryValues | the last response; not ready → `OOS.WaitFor.NotReady` (retryable: the task's Retries poll) |
 * | ACS::CheckFor | as WaitFor | the response; no match → `OOS.CheckFor.Failed` |
 * | ACS::SelectTargets | ResourceType, RegionId, Filters | `{Instances: {Instance: [...]}}` (describe-style) from the inventory |
 * | ACS::ECS::RunCommand | regionId, instanceId, commandType, commandContent, workingDir, timeout, enableParameter, parameters | `{invocationOutput, exitCode, instanceId}` |
 * | ACS::Template | TemplateName, TemplateVersion, Parameters | the child execution's Outputs |
 * | ACS::Approve | NotifyType, WebHook {URI, Headers, Content}, Approvers, MinRequiredApprovals | `{Notified}` — sends the notification only; the task is compiled WaitForCustomCallback, the runner waits for NotifyExecution |
 * | ACS::Pause | — | `{}` (WaitForCustomCallback as well) |
 * | ACS::Notify | NotifyType, WebHook {URI, Headers, Content} | `{StatusCode}` |
 *
 * ExecuteAPI/WaitFor/CheckFor dispatch on Service: `HTTP` (a real request through HTTP:Request;
 * API = the method), `FC` InvokeFunction (FC:InvokeFunction, local functions), `FnF`
 * StartSyncExecution/StartExecution (FnF:StartSyncExecution, a child flow); every other call is
 * answered by the fixtures (./acs-config.ts). High-risk APIs (Delete*, Release*, Stop*, Reboot*, …)
 * are recognised by {@link isHighRiskApi}; confirming them is the lifecycle layer's job.
 */
import { ErrorNames, FlowrunError } from '../../shared/errors.js';
import { isJsonObject, jsonTypeName } from '../../shared/json.js';
import type { Json, JsonObject } from '../../shared/json.js';
import type { ActionRegistry } from '../registry.js';
import type { ActionDefinition, ActionRunContext } from '../types.js';
import { createLocalCommandRunner, DEFAULT_COMMAND_TIMEOUT_SECONDS } from './acs-command.js';
import type { CommandRunner } from './acs-command.js';
import { DEFAULT_RESOURCE_TYPE, FixtureAnswerer } from './acs-config.js';
import type { AcsFixtures, Inventory, InventoryResource } from './acs-config.js';
import { AcsActions, AcsErrorNames } from './acs-names.js';
import { jqValues, normalizeSelector } from './jq.js';

export { AcsActions, AcsErrorNames, DEFAULT_HIGH_RISK_API_PATTERN, isHighRiskApi } from './acs-names.js';

/** Deepest child template (OOS: at most 3 nesting levels). */
export const MAX_TEMPLATE_DEPTH = 3;
/** Region of inventory resources and SelectTargets calls that name none. */
export const DEFAULT_ACS_REGION = 'cn-hangzhou';

/** What the composition root runs for ACS::Template (a child OOS execution). */
export interface ChildTemplateRequest {
  templateName: string;
  templateVersion: string | undefined;
  parameters: JsonObject;
  /** The parent execution (its name is the OOS ExecutionId) and task. */
  parentExecutionName: string;
  taskName: string;
  /** Depth of the child (parent's + 1) and the template names on the chain, ending with the child. */
  depth: number;
  chain: readonly string[];
  signal: AbortSignal;
}

export interface ChildTemplateResult {
  /** `Success`, `Failed`, `Cancelled`. */
  status: string;
  outputs?: JsonObject;
  error?: { Code: string; Detail: string };
  executionId?: string;
}

export type ChildTemplateStarter = (request: ChildTemplateRequest) => Promise<ChildTemplateResult>;

export interface AcsActionsOptions {
  fixtures?: AcsFixtures;
  inventory?: Inventory;
  /** The local command runner of ACS::ECS::RunCommand: off unless `enabled` (then `run`, default local processes). */
  commandRunner?: { enabled: boolean; run?: CommandRunner };
  /** Runs ACS::Template children (absent: only fixtures answer them). */
  startTemplate?: ChildTemplateStarter;
  /** Default {@link DEFAULT_ACS_REGION}. */
  regionId?: string;
}

const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];

function bad(action: string, message: string): FlowrunError {
  return new FlowrunError(AcsErrorNames.InvalidParameters, `${action}: ${message}`, { retryable: false });
}

function props(action: string, parameters: Json): JsonObject {
  if (!isJsonObject(parameters)) throw bad(action, `the Properties must be a mapping, got ${jsonTypeName(parameters)}`);
  return parameters;
}

function text(action: string, p: JsonObject, key: string): string {
  const v = p[key];
  if (typeof v !== 'string' || v === '') throw bad(action, `${key} must be a non-empty string, got ${JSON.stringify(v ?? null)}`);
  return v;
}

/** The first of several spellings present in `p`. */
function pick(p: JsonObject, ...keys: string[]): Json | undefined {
  for (const k of keys) if (p[k] !== undefined) return p[k];
  return undefined;
}

function delegate(registry: ActionRegistry, name: string, forWhat: string): ActionDefinition {
  const def = registry.get(name);
  if (!def) throw new FlowrunError(ErrorNames.TaskFailed, `${forWhat} needs the ${name} action, which is not registered`);
  return def;
}

/** The object an action must return (the interpreter's task results are objects). */
function asObject(value: Json, key = 'Result'): JsonObject {
  return isJsonObject(value) ? value : { [key]: value };
}

class AcsRuntime {
  readonly answers: FixtureAnswerer;
  private readonly runner: CommandRunner | undefined;

  constructor(
    private readonly registry: ActionRegistry,
    private readonly options: AcsActionsOptions,
  ) {
    this.answers = new FixtureAnswerer(options.fixtures ?? {});
    this.runner = options.commandRunner?.enabled ? (options.commandRunner.run ?? createLocalCommandRunner()) : undefined;
  }

  get region(): string {
    return this.options.regionId ?? DEFAULT_ACS_REGION;
  }

  // -------------------------------------------------------------------------------------------
  // API calls

  async callApi(action: string, p: JsonObject, ctx: ActionRunContext): Promise<JsonObject> {
    const service = text(action, p, 'Service');
    const api = text(action, p, 'API');
    const parameters = p['Parameters'] ?? {};
    if (!isJsonObject(parameters)) throw bad(action, `Parameters must be a mapping, got ${jsonTypeName(parameters)}`);
    const s = service.toLowerCase();
    const a = api.toLowerCase();
    if (s === 'http') return this.http(action, api, parameters, p, ctx);
    if (s === 'fc' && a === 'invokefunction') return this.fc(action, parameters, ctx);
    if ((s === 'fnf' || s === 'cloudflow') && (a === 'startsyncexecution' || a === 'startexecution')) return this.fnf(action, parameters, ctx);
    const entry = this.answers.findApi(service, api, parameters);
    if (!entry) {
      throw new FlowrunError(
        AcsErrorNames.FixtureNotFound,
        `${action}: no fixture answers ${service} ${api} with Parameters ${JSON.stringify(parameters).slice(0, 200)}; add an entry under Services.${service}.${api} in the fixtures file (flowrun calls HTTP, FC and FnF itself and answers every other cloud API from fixtures)`,
      );
    }
    return asObject(this.answers.answer(entry, `${service} ${api}`));
  }

  private async http(action: string, api: string, parameters: JsonObject, p: JsonObject, ctx: ActionRunContext): Promise<JsonObject> {
    const upper = api.toUpperCase();
    const method = HTTP_METHODS.includes(upper) ? upper : String(pick(parameters, 'method', 'Method') ?? pick(p, 'Method') ?? 'GET').toUpperCase();
    const url = pick(parameters, 'url', 'URL', 'Url', 'uri', 'URI') ?? pick(p, 'URI', 'Url', 'URL');
    if (typeof url !== 'string') throw bad(action, 'Service HTTP needs Parameters.url (the address to call)');
    const request: JsonObject = { method, url };
    const headers = pick(parameters, 'headers', 'Headers') ?? pick(p, 'Headers');
    const query = pick(parameters, 'query', 'Query');
    const body = pick(parameters, 'body', 'Body') ?? pick(p, 'Body');
    const timeout = pick(parameters, 'timeoutSeconds', 'TimeoutSeconds');
    if (headers !== undefined) request['headers'] = headers;
    if (query !== undefined) request['query'] = query;
    if (body !== undefined && body !== null) request['body'] = body;
    if (timeout !== undefined) request['timeoutSeconds'] = timeout;
    return asObject(await delegate(this.registry, 'HTTP:Request', 'Service HTTP').run(request, ctx));
  }

  private async fc(action: string, parameters: JsonObject, ctx: ActionRunContext): Promise<JsonObject> {
    const request: JsonObject = {};
    const name = pick(parameters, 'functionName', 'FunctionName');
    const arn = pick(parameters, 'resourceArn', 'ResourceArn');
    if (typeof name === 'string') request['functionName'] = name;
    else if (typeof arn === 'string') request['resourceArn'] = arn;
    else throw bad(action, 'Service FC InvokeFunction needs Parameters.FunctionName');
    const qualifier = pick(parameters, 'qualifier', 'Qualifier');
    if (typeof qualifier === 'string') request['qualifier'] = qualifier;
    const body = pick(parameters, 'body', 'Body', 'event', 'Event', 'payload', 'Payload');
    if (body !== undefined) request['body'] = body;
    return asObject(await delegate(this.registry, 'FC:InvokeFunction', 'Service FC').run(request, ctx));
  }

  private async fnf(action: string, parameters: JsonObject, ctx: ActionRunContext): Promise<JsonObject> {
    const flowName = pick(parameters, 'FlowName', 'flowName');
    if (typeof flowName !== 'string') throw bad(action, 'Service FnF StartSyncExecution needs Parameters.FlowName');
    let input: Json = pick(parameters, 'Input', 'input') ?? {};
    if (typeof input === 'string') {
      try {
        input = input.trim() === '' ? {} : (JSON.parse(input) as Json);
      } catch {
        throw bad(action, 'Parameters.Input must be a JSON object text');
      }
    }
    if (!isJsonObject(input)) throw bad(action, 'Parameters.Input must be a JSON object');
    const request: JsonObject = { flowName, input };
    const name = pick(parameters, 'ExecutionName', 'Name', 'executionName');
    if (typeof name === 'string') request['executionName'] = name;
    const result = asObject(await delegate(this.registry, 'FnF:StartSyncExecution', 'Service FnF').run(request, ctx));
    const out: JsonObject = { FlowName: flowName, Status: result['Status'] ?? null, Output: JSON.stringify(result['Output'] ?? {}) };
    if (typeof name === 'string') out['Name'] = name;
    return out;
  }

  // -------------------------------------------------------------------------------------------
  // WaitFor / CheckFor

  async check(action: string, parameters: Json, ctx: ActionRunContext, waiting: boolean): Promise<JsonObject> {
    const p = props(action, parameters);
    const selector = text(action, p, 'PropertySelector');
    const desired = listOf(action, p, 'DesiredValues');
    const notDesired = listOf(action, p, 'NotDesiredValues');
    const stop = listOf(action, p, 'StopRetryValues');
    if (!desired && !notDesired) throw bad(action, 'needs DesiredValues or NotDesiredValues');
    const response = await this.callApi(action, p, ctx);
    const values = jqValues(normalizeSelector(selector), response).flatMap((v) => (Array.isArray(v) ? v : [v]));
    const shown = JSON.stringify(values).slice(0, 200);
    const has = (list: Json[], v: Json): boolean => list.some((x) => sameValue(x, v));
    if (stop && values.some((v) => has(stop, v))) {
      throw new FlowrunError(AcsErrorNames.WaitForStopped, `${action}: ${selector} is ${shown}, a StopRetryValue (${JSON.stringify(stop)})`, { retryable: false });
    }
    const ok = values.length > 0 && (desired ? values.every((v) => has(desired, v)) : values.every((v) => !has(notDesired ?? [], v)));
    if (ok) return response;
    const want = desired ? `one of ${JSON.stringify(desired)}` : `none of ${JSON.stringify(notDesired)}`;
    if (waiting) {
      throw new FlowrunError(AcsErrorNames.WaitForNotReady, `${action}: ${selector} is ${shown}, waiting for ${want} (attempt ${ctx.retryCount + 1})`, { retryable: true });
    }
    throw new FlowrunError(AcsErrorNames.CheckForFailed, `${action}: ${selector} is ${shown}, expected ${want}`, { retryable: false });
  }

  // -------------------------------------------------------------------------------------------
  // Inventory

  private resources(): InventoryResource[] {
    return this.options.inventory?.Resources ?? [];
  }

  selectTargets(parameters: Json): JsonObject {
    const action = AcsActions.SelectTargets;
    const p = props(action, parameters);
    const type = typeof p['ResourceType'] === 'string' ? p['ResourceType'] : DEFAULT_RESOURCE_TYPE;
    const region = typeof p['RegionId'] === 'string' && p['RegionId'] !== '' ? p['RegionId'] : undefined;
    const filters = p['Filters'] === undefined ? [{ Type: 'All' }] : p['Filters'];
    if (!Array.isArray(filters)) throw bad(action, `Filters must be a list, got ${jsonTypeName(filters)}`);
    const sameType = (r: InventoryResource): boolean => sameResourceType(r.ResourceType, type);
    const selected = new Map<string, InventoryResource>();
    filters.forEach((f, i) => {
      if (!isJsonObject(f)) throw bad(action, `Filters[${i}] must be a mapping (e.g. {Type: ResourceIds, ResourceIds: [...]})`);
      const filterRegion = typeof f['RegionId'] === 'string' && f['RegionId'] !== '' ? f['RegionId'] : region;
      const inRegion = (r: InventoryResource): boolean => filterRegion === undefined || (r.RegionId ?? this.region) === filterRegion;
      const kind = typeof f['Type'] === 'string' ? f['Type'] : Array.isArray(f['ResourceIds']) ? 'ResourceIds' : Array.isArray(f['Tags']) ? 'Tags' : 'All';
      let found: InventoryResource[];
      switch (kind) {
        case 'ResourceIds': {
          const ids = f['ResourceIds'];
          if (!Array.isArray(ids)) throw bad(action, `Filters[${i}].ResourceIds must be a list of ids`);
          const missing: string[] = [];
          found = [];
          for (const id of ids.map(String)) {
            const r = this.resources().find((x) => x.ResourceId === id && sameType(x) && inRegion(x));
            if (r) found.push(r);
            else missing.push(id);
          }
          if (missing.length > 0) {
            throw new FlowrunError(
              AcsErrorNames.TargetNotFound,
              `${action}: ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not in the local inventory as ${type}${filterRegion ? ` in ${filterRegion}` : ''}; add ${missing.length === 1 ? 'it' : 'them'} to the inventory file`,
            );
          }
          break;
        }
        case 'Tags': {
          const tags = Array.isArray(f['Tags']) ? f['Tags'].filter(isJsonObject) : [];
          found = this.resources().filter(
            (r) =>
              sameType(r) &&
              inRegion(r) &&
              tags.every((t) => {
                const key = String(t['Key'] ?? t['TagKey'] ?? '');
                const value = t['Value'] ?? t['TagValue'];
                return Object.hasOwn(r.Tags, key) && (value === undefined || value === null || r.Tags[key] === String(value));
              }),
          );
          break;
        }
        case 'ResourceGroup': {
          const group = String(f['ResourceGroupId'] ?? '');
          found = this.resources().filter((r) => sameType(r) && inRegion(r) && r.ResourceGroupId === group);
          break;
        }
        case 'All':
          found = this.resources().filter((r) => sameType(r) && inRegion(r));
          break;
        default:
          throw bad(action, `Filters[${i}].Type ${JSON.stringify(kind)} is not supported (ResourceIds, Tags, ResourceGroup, All)`);
      }
      for (const r of found) selected.set(r.ResourceId, r);
    });
    return describeResources(type, [...selected.values()], this.region);
  }

  async runCommand(parameters: Json, ctx: ActionRunContext): Promise<JsonObject> {
    const action = AcsActions.RunCommand;
    const p = props(action, parameters);
    const instanceId = text(action, p, 'instanceId');
    const region = typeof p['regionId'] === 'string' && p['regionId'] !== '' ? p['regionId'] : undefined;
    const instance = this.resources().find((r) => r.ResourceId === instanceId && (region === undefined || (r.RegionId ?? this.region) === region));
    if (!instance) {
      throw new FlowrunError(AcsErrorNames.TargetNotFound, `${action}: instance ${instanceId}${region ? ` in ${region}` : ''} is not in the local inventory; add it to the inventory file`);
    }
    let content = typeof p['commandContent'] === 'string' ? p['commandContent'] : '';
    if (content === '') throw bad(action, 'commandContent must be a non-empty string');
    if (p['enableParameter'] === true || p['enableParameter'] === 'true') {
      const values = isJsonObject(p['parameters']) ? p['parameters'] : {};
      content = content.replace(/\{\{\s*([A-Za-z0-9_-]+)\s*\}\}/g, (whole, name: string) => (Object.hasOwn(values, name) ? String(values[name]) : whole));
    }
    if (!this.runner) {
      const entry = this.answers.findTemplate(action, p);
      if (entry) return asObject(this.answers.answer(entry, action));
      throw new FlowrunError(
        AcsErrorNames.CommandRunnerDisabled,
        `${action}: the local command runner is off, so commands are not run on ${instanceId}. Enable it in the configuration (it runs commands on this machine as the flowrun user), or answer ${action} from the fixtures (Templates: ${action})`,
      );
    }
    const timeout = Number(p['timeout'] ?? DEFAULT_COMMAND_TIMEOUT_SECONDS);
    const result = await this.runner({
      instance,
      commandType: typeof p['commandType'] === 'string' && p['commandType'] !== '' ? p['commandType'] : 'RunShellScript',
      content,
      workingDir: typeof p['workingDir'] === 'string' && p['workingDir'] !== '' ? p['workingDir'] : undefined,
      timeoutSeconds: Number.isFinite(timeout) && timeout > 0 ? timeout : DEFAULT_COMMAND_TIMEOUT_SECONDS,
      signal: ctx.signal,
      clock: ctx.clock,
    });
    if (result.exitCode !== 0) {
      throw new FlowrunError(AcsErrorNames.CommandFailed, `${action}: the command on ${instanceId} exited with code ${result.exitCode}: ${result.output.slice(-500)}`, {
        details: { InstanceId: instanceId, ExitCode: result.exitCode, Output: result.output },
      });
    }
    return { invocationOutput: result.output, exitCode: result.exitCode, instanceId };
  }

  // -------------------------------------------------------------------------------------------
  // Child templates

  async template(parameters: Json, ctx: ActionRunContext): Promise<JsonObject> {
    const action = AcsActions.Template;
    const p = props(action, parameters);
    const name = text(action, p, 'TemplateName');
    const params = p['Parameters'] ?? {};
    if (!isJsonObject(params)) throw bad(action, `Parameters must be a mapping, got ${jsonTypeName(params)}`);
    const entry = this.answers.findTemplate(name, params);
    if (entry) return asObject(this.answers.answer(entry, `template ${name}`));
    const depth = ctx.depth + 1;
    const chain = [...(ctx.flowChain ?? [])];
    if (chain[chain.length - 1] !== ctx.flowName) chain.push(ctx.flowName);
    if (depth > MAX_TEMPLATE_DEPTH) {
      throw new FlowrunError(AcsErrorNames.ChildExecutionFailed, `${action}: cannot start ${name}: templates nest at most ${MAX_TEMPLATE_DEPTH} levels deep`);
    }
    if (chain.includes(name)) {
      throw new FlowrunError(AcsErrorNames.ChildExecutionFailed, `${action}: cannot start ${name}: it is already running on this chain (${[...chain, name].join(' → ')})`);
    }
    if (!this.options.startTemplate) {
      throw new FlowrunError(
        AcsErrorNames.TemplateUnavailable,
        `${action}: no template runner is configured and no fixture answers template ${name}; add it under Templates in the fixtures file`,
      );
    }
    const result = await this.options.startTemplate({
      templateName: name,
      templateVersion: typeof p['TemplateVersion'] === 'string' ? p['TemplateVersion'] : undefined,
      parameters: params,
      parentExecutionName: ctx.executionName,
      taskName: ctx.stateName,
      depth,
      chain: [...chain, name],
      signal: ctx.signal,
    });
    if (result.status !== 'Success') {
      const why = result.error ? `${result.error.Code}: ${result.error.Detail}` : `status ${result.status}`;
      throw new FlowrunError(AcsErrorNames.ChildExecutionFailed, `${action}: child execution${result.executionId ? ` ${result.executionId}` : ''} of ${name} ended ${result.status} (${why})`);
    }
    return result.outputs ?? {};
  }

  // -------------------------------------------------------------------------------------------
  // Notifications

  async webhook(action: string, parameters: Json, ctx: ActionRunContext, required: boolean): Promise<JsonObject | undefined> {
    const p = props(action, parameters);
    const hook = p['WebHook'];
    if (hook === undefined || hook === null) {
      if (required) throw bad(action, 'needs WebHook: {URI, Headers, Content}');
      return undefined;
    }
    if (!isJsonObject(hook)) throw bad(action, 'WebHook must be a mapping {URI, Headers, Content}');
    const uri = hook['URI'];
    if (typeof uri !== 'string' || uri === '') throw bad(action, 'WebHook.URI must be the webhook address');
    const request: JsonObject = { method: 'POST', url: uri };
    if (hook['Headers'] !== undefined) request['headers'] = hook['Headers'];
    if (hook['Content'] !== undefined) request['body'] = hook['Content'];
    return asObject(await delegate(this.registry, 'HTTP:Request', action).run(request, ctx));
  }
}

function listOf(action: string, p: JsonObject, key: string): Json[] | undefined {
  const v = p[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw bad(action, `${key} must be a list, got ${jsonTypeName(v)}`);
  return v;
}

/** Values compare as text ('0' equals 0, 'true' equals true) — API responses mix both. */
function sameValue(a: Json, b: Json): boolean {
  if (typeof a === 'object' || typeof b === 'object') return JSON.stringify(a) === JSON.stringify(b);
  return String(a) === String(b);
}

function sameResourceType(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/**
 * The describe-style answer for `type` (`ALIYUN::RDS::DBInstance` → `{DBInstances: {DBInstance:
 * [{DBInstanceId, RegionId, Status, Tags: {Tag: [{TagKey, TagValue}]}, …Attributes}]}}`); ECS
 * instances and managed instances are both `Instances.Instance[].InstanceId`.
 */
export function describeResources(type: string, resources: InventoryResource[], defaultRegion: string): JsonObject {
  let singular = type.split('::').pop() ?? 'Resource';
  if (singular === 'ManagedInstance') singular = 'Instance';
  const items = resources.map((r) => {
    const item: JsonObject = { [`${singular}Id`]: r.ResourceId, RegionId: r.RegionId ?? defaultRegion };
    if (r.Status !== undefined) item['Status'] = r.Status;
    if (r.ResourceGroupId !== undefined) item['ResourceGroupId'] = r.ResourceGroupId;
    item['Tags'] = { Tag: Object.entries(r.Tags).map(([k, v]) => ({ TagKey: k, TagValue: v })) };
    return { ...item, ...r.Attributes };
  });
  return { [`${singular}s`]: { [singular]: items }, TotalCount: items.length };
}

const apiSchema = {
  type: 'object',
  required: ['Service', 'API'],
  properties: {
    Service: { type: 'string', minLength: 1 },
    API: { type: 'string', minLength: 1 },
    Parameters: { type: 'object' },
    AutoPaging: {},
    Method: { type: 'string' },
    URI: { type: 'string' },
    Headers: { type: 'object' },
    Body: {},
    Risk: { type: 'string' },
  },
};
const checkSchema = {
  ...apiSchema,
  required: ['Service', 'API', 'PropertySelector'],
  properties: {
    ...apiSchema.properties,
    PropertySelector: { type: 'string', minLength: 1 },
    DesiredValues: { type: 'array' },
    NotDesiredValues: { type: 'array' },
    StopRetryValues: { type: 'array' },
  },
};
const webhookSchema = {
  type: 'object',
  properties: {
    NotifyType: { type: 'string' },
    WebHook: { type: 'object', required: ['URI'], properties: { URI: { type: 'string' }, Headers: { type: 'object' }, Content: {} } },
    Approvers: { type: 'array' },
    MinRequiredApprovals: {},
    AppendExecutionLink: {},
  },
};

/**
 * The ACS actions over one registry (HTTP/FC/FnF adapters delegate to the registry's
 * HTTP:Request, FC:InvokeFunction and FnF:StartSyncExecution at run time).
 */
export function createAcsActions(registry: ActionRegistry, options: AcsActionsOptions = {}): ActionDefinition[] {
  const rt = new AcsRuntime(registry, options);
  return [
    {
      name: AcsActions.ExecuteAPI,
      description: 'Calls a cloud API: HTTP, FC and FnF for real, any other from fixtures; returns the response.',
      parametersSchema: apiSchema,
      highRisk: true,
      run: (p, ctx) => rt.callApi(AcsActions.ExecuteAPI, props(AcsActions.ExecuteAPI, p), ctx),
    },
    {
      name: AcsActions.WaitFor,
      description: 'Calls an API until PropertySelector selects DesiredValues (polling through the task Retries).',
      parametersSchema: checkSchema,
      highRisk: false,
      run: (p, ctx) => rt.check(AcsActions.WaitFor, p, ctx, true),
    },
    {
      name: AcsActions.CheckFor,
      description: 'Calls an API once and fails unless PropertySelector selects DesiredValues.',
      parametersSchema: checkSchema,
      highRisk: false,
      run: (p, ctx) => rt.check(AcsActions.CheckFor, p, ctx, false),
    },
    {
      name: AcsActions.SelectTargets,
      description: 'Selects resources from the local inventory (ResourceIds, Tags, ResourceGroup, All filters).',
      parametersSchema: { type: 'object', properties: { ResourceType: { type: 'string' }, RegionId: { type: 'string' }, Filters: { type: 'array' } } },
      highRisk: false,
      run: (p) => Promise.resolve(rt.selectTargets(p)),
    },
    {
      name: AcsActions.RunCommand,
      description: 'Runs a command for an inventory instance with the local command runner (off unless enabled).',
      parametersSchema: { type: 'object', required: ['instanceId', 'commandContent'], properties: { instanceId: { type: 'string' }, commandContent: { type: 'string' } } },
      highRisk: true,
      run: (p, ctx) => rt.runCommand(p, ctx),
    },
    {
      name: AcsActions.Template,
      description: 'Runs a template as a child execution (or answers it from fixtures); returns its Outputs.',
      parametersSchema: { type: 'object', required: ['TemplateName'], properties: { TemplateName: { type: 'string' }, TemplateVersion: { type: 'string' }, Parameters: { type: 'object' } } },
      highRisk: false,
      run: (p, ctx) => rt.template(p, ctx),
    },
    {
      name: AcsActions.Approve,
      description: 'Sends the approval notification (WebHook); the runner then waits for NotifyExecution Approve/Reject.',
      parametersSchema: webhookSchema,
      highRisk: false,
      run: async (p, ctx) => ({ Notified: (await rt.webhook(AcsActions.Approve, p, ctx, false)) !== undefined }),
    },
    {
      name: AcsActions.Pause,
      description: 'Does nothing; the runner waits for NotifyExecution.',
      parametersSchema: { type: 'object' },
      highRisk: false,
      run: () => Promise.resolve({}),
    },
    {
      name: AcsActions.Notify,
      description: 'POSTs Content to a WebHook URI; returns {StatusCode}.',
      parametersSchema: webhookSchema,
      highRisk: false,
      run: async (p, ctx) => {
        const result = (await rt.webhook(AcsActions.Notify, p, ctx, true)) ?? {};
        return { StatusCode: result['StatusCode'] ?? null };
      },
    },
  ];
}

/** Registers every ACS action on `registry` (which should already hold the built-in actions). */
export function registerAcsActions(registry: ActionRegistry, options: AcsActionsOptions = {}): void {
  for (const def of createAcsActions(registry, options)) registry.register(def);
}
