import { createServer } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildTemplateRequest } from '../../src/engine/actions/acs.js';
import { DEFAULT_HIGH_RISK_API_PATTERN, isHighRiskApi } from '../../src/engine/actions/acs.js';
import { loadInventory, parseAcsFixtures, parseInventory } from '../../src/engine/actions/acs-config.js';
import type { AcsFixtures } from '../../src/engine/actions/acs-config.js';
import type { CommandRequest } from '../../src/engine/actions/acs-command.js';
import type { ChildFlowRequest, TaskRequest } from '../../src/engine/index.js';
import type { Json, JsonObject } from '../../src/shared/json.js';
import { acsEngine } from './helpers.js';

function req(action: string, parameters: Json, extra: Partial<TaskRequest['context']> = {}): TaskRequest {
  return { action, parameters, context: { flowName: 'tpl', executionName: 'exec-1', stateName: 'task', retryCount: 0, depth: 0, ...extra } };
}

async function failure(p: Promise<unknown>): Promise<{ code: string; message: string; retryable: boolean }> {
  try {
    await p;
  } catch (err) {
    return err as never;
  }
  throw new Error('expected a failure');
}

let server: Server;
let base = '';
const received: { method: string; url: string; body: string; headers: IncomingMessage['headers'] }[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    let body = '';
    request.on('data', (c: Buffer) => (body += c.toString('utf8')));
    request.on('end', () => {
      received.push({ method: request.method ?? '', url: request.url ?? '', body, headers: request.headers });
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ ok: true, path: request.url }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const inventoryText = `
Resources:
  - { ResourceId: i-1, RegionId: cn-hangzhou, Status: Running, Tags: { env: prod, app: web }, ResourceGroupId: rg-a, Attributes: { InstanceName: one } }
  - { ResourceId: i-2, RegionId: cn-hangzhou, Status: Running, Tags: { env: prod, app: db } }
  - { InstanceId: i-3, RegionId: cn-shanghai, Tags: { env: test } }
  - { ResourceId: mi-1, ResourceType: ALIYUN::ECS::ManagedInstance, Tags: { env: prod } }
  - { ResourceId: rm-1, ResourceType: ALIYUN::RDS::DBInstance, RegionId: cn-hangzhou }
`;
const inventory = parseInventory(inventoryText);

describe('ACS::ExecuteAPI adapters', () => {
  it('HTTP: a real request (API = the method)', async () => {
    const { engine } = acsEngine();
    const out = (await engine.runTask(req('ACS::ExecuteAPI', { Service: 'HTTP', API: 'POST', Parameters: { url: `${base}/hook`, body: { a: 1 }, query: { x: 'y' } } }))) as JsonObject;
    expect(out).toMatchObject({ StatusCode: 200, Body: { ok: true, path: '/hook?x=y' } });
    expect(received.at(-1)).toMatchObject({ method: 'POST', body: '{"a":1}' });
    await engine.close();
  });

  it('FC: InvokeFunction runs a local function', async () => {
    const { engine } = acsEngine();
    const out = await engine.runTask(req('ACS::ExecuteAPI', { Service: 'FC', API: 'InvokeFunction', Parameters: { FunctionName: 'greet', Body: { name: 'Ann' } } }));
    expect(out).toEqual({ StatusCode: 200, Body: { greeting: 'Hello, Ann!', functionName: 'greet' } });
    await engine.close();
  });

  it('FnF: StartSyncExecution starts a child flow; Output is a JSON string like the API', async () => {
    const calls: ChildFlowRequest[] = [];
    const { engine } = acsEngine({
      startChildFlow: async (r) => {
        calls.push(r);
        return { status: 'Succeeded', output: { total: r.input['n'] ?? null } };
      },
    });
    const out = await engine.runTask(req('ACS::ExecuteAPI', { Service: 'FnF', API: 'StartSyncExecution', Parameters: { FlowName: 'sum', Input: '{"n": 3}', ExecutionName: 'run-1' } }));
    expect(out).toEqual({ FlowName: 'sum', Status: 'Succeeded', Output: '{"total":3}', Name: 'run-1' });
    expect(calls[0]).toMatchObject({ flowName: 'sum', input: { n: 3 }, executionName: 'run-1', depth: 1 });
    await engine.close();
  });

  it('any other API: fixtures matched on parameters (service/API ignore case), Responses in turn, errors', async () => {
    const fixtures: AcsFixtures = {
      Services: {
        ecs: {
          describeinstances: [
            { When: { RegionId: 'cn-shanghai', PageSize: 10 }, Response: { Where: 'shanghai' } },
            { When: { InstanceIds: ['i-1'] }, Response: { Where: 'i-1' } },
            { Response: { Where: 'default' } },
          ],
          DescribeTasks: [{ Responses: [{ n: 1 }, { n: 2 }] }],
          DeleteInstance: [{ Error: { Code: 'IncorrectInstanceStatus', Message: 'running', Retryable: true } }],
        },
      },
    };
    const { engine } = acsEngine({ fixtures });
    const call = (API: string, Parameters: JsonObject = {}): Promise<Json> => engine.runTask(req('ACS::ExecuteAPI', { Service: 'ECS', API, Parameters }));
    expect(await call('DescribeInstances', { RegionId: 'cn-shanghai', PageSize: '10' })).toEqual({ Where: 'shanghai' });
    expect(await call('DescribeInstances', { InstanceIds: ['i-1'] })).toEqual({ Where: 'i-1' });
    expect(await call('DescribeInstances', { InstanceIds: ['i-2'] })).toEqual({ Where: 'default' });
    expect([await call('DescribeTasks'), await call('DescribeTasks'), await call('DescribeTasks')]).toEqual([{ n: 1 }, { n: 2 }, { n: 2 }]);
    expect(await failure(call('DeleteInstance'))).toMatchObject({ code: 'IncorrectInstanceStatus', message: 'running', retryable: true });
    const missing = await failure(call('DescribeDisks', { RegionId: 'x' }));
    expect(missing.code).toBe('OOS.FixtureNotFound');
    expect(missing.message).toMatch(/no fixture answers ECS DescribeDisks with Parameters \{"RegionId":"x"\}; add an entry under Services.ECS.DescribeDisks/);
    await engine.close();
  });

  it('bad Properties fail with OOS.InvalidParameters', async () => {
    const { engine } = acsEngine();
    expect(await failure(engine.runTask(req('ACS::ExecuteAPI', { Service: 'ECS' })))).toMatchObject({ code: 'OOS.InvalidParameters', message: expect.stringMatching(/API must be a non-empty string/) });
    expect(await failure(engine.runTask(req('ACS::ExecuteAPI', { Service: 'HTTP', API: 'GET', Parameters: {} })))).toMatchObject({ message: expect.stringMatching(/needs Parameters.url/) });
    await engine.close();
  });
});

describe('ACS::WaitFor and ACS::CheckFor', () => {
  const fixtures: AcsFixtures = { Services: { ECS: { DescribeInstances: [{ Response: { Instances: { Instance: [{ Status: 'Running' }, { Status: 'Stopped' }] } } }] } } };
  const props = { Service: 'ECS', API: 'DescribeInstances', PropertySelector: 'Instances.Instance[].Status' };

  it('WaitFor: all selected values desired → the response; else retryable NotReady', async () => {
    const { engine } = acsEngine({ fixtures });
    expect(await engine.runTask(req('ACS::WaitFor', { ...props, DesiredValues: ['Running', 'Stopped'] }))).toMatchObject({ Instances: {} });
    const notReady = await failure(engine.runTask(req('ACS::WaitFor', { ...props, DesiredValues: ['Running'] })));
    expect(notReady).toMatchObject({ code: 'OOS.WaitFor.NotReady', retryable: true });
    expect(notReady.message).toMatch(/is \["Running","Stopped"\], waiting for one of \["Running"\]/);
    expect(await failure(engine.runTask(req('ACS::WaitFor', { ...props, DesiredValues: ['Running'], StopRetryValues: ['Stopped'] })))).toMatchObject({ code: 'OOS.WaitFor.Stopped', retryable: false });
    expect(await engine.runTask(req('ACS::WaitFor', { ...props, NotDesiredValues: ['Starting'] }))).toMatchObject({ Instances: {} });
    await engine.close();
  });

  it('CheckFor: one check, OOS.CheckFor.Failed when it does not match', async () => {
    const { engine } = acsEngine({ fixtures });
    expect(await failure(engine.runTask(req('ACS::CheckFor', { ...props, NotDesiredValues: ['Stopped'] })))).toMatchObject({ code: 'OOS.CheckFor.Failed', retryable: false });
    expect(await engine.runTask(req('ACS::CheckFor', { ...props, PropertySelector: '.Instances.Instance | length', DesiredValues: ['2'] }))).toMatchObject({ Instances: {} });
    await engine.close();
  });
});

describe('ACS::SelectTargets (local inventory)', () => {
  const { engine } = acsEngine({ inventory });
  const select = (parameters: JsonObject): Promise<Json> => engine.runTask(req('ACS::SelectTargets', parameters));
  const ids = (out: Json): string[] => ((out as { Instances: { Instance: { InstanceId: string }[] } }).Instances.Instance ?? []).map((i) => i.InstanceId);

  it('by ResourceIds (describe-style result with tags and attributes)', async () => {
    const out = await select({ ResourceType: 'ALIYUN::ECS::Instance', RegionId: 'cn-hangzhou', Filters: [{ Type: 'ResourceIds', ResourceIds: ['i-1'] }] });
    expect(out).toEqual({
      Instances: { Instance: [{ InstanceId: 'i-1', RegionId: 'cn-hangzhou', Status: 'Running', ResourceGroupId: 'rg-a', Tags: { Tag: [{ TagKey: 'env', TagValue: 'prod' }, { TagKey: 'app', TagValue: 'web' }] }, InstanceName: 'one' }] },
      TotalCount: 1,
    });
  });

  it('ids missing from the inventory are a clear error', async () => {
    const err = await failure(select({ RegionId: 'cn-hangzhou', Filters: [{ Type: 'ResourceIds', ResourceIds: ['i-1', 'i-3', 'i-9'] }] }));
    expect(err).toMatchObject({ code: 'OOS.TargetNotFound' });
    expect(err.message).toMatch(/i-3, i-9 are not in the local inventory as ALIYUN::ECS::Instance in cn-hangzhou/);
  });

  it('by Tags, ResourceGroup, All (per region); filters are a union', async () => {
    expect(ids(await select({ RegionId: 'cn-hangzhou', Filters: [{ Type: 'Tags', Tags: [{ Key: 'env', Value: 'prod' }] }] }))).toEqual(['i-1', 'i-2']);
    expect(ids(await select({ Filters: [{ Type: 'Tags', Tags: [{ Key: 'app' }] }] }))).toEqual(['i-1', 'i-2']);
    expect(ids(await select({ Filters: [{ Type: 'ResourceGroup', ResourceGroupId: 'rg-a' }] }))).toEqual(['i-1']);
    expect(ids(await select({ RegionId: 'cn-shanghai', Filters: [{ Type: 'All' }] }))).toEqual(['i-3']);
    expect(ids(await select({ Filters: [{ Type: 'ResourceIds', ResourceIds: ['i-3'], RegionId: 'cn-shanghai' }, { Type: 'ResourceIds', ResourceIds: ['i-2'] }] }))).toEqual(['i-3', 'i-2']);
  });

  it('managed instances answer as Instances.Instance; other types by their name', async () => {
    expect(ids(await select({ ResourceType: 'ALIYUN::ECS::ManagedInstance', Filters: [{ Type: 'All' }] }))).toEqual(['mi-1']);
    expect(await select({ ResourceType: 'ALIYUN::RDS::DBInstance', Filters: [{ Type: 'All' }] })).toMatchObject({ DBInstances: { DBInstance: [{ DBInstanceId: 'rm-1' }] } });
  });
});

describe('ACS::ECS::RunCommand', () => {
  const command = { regionId: 'cn-hangzhou', instanceId: 'i-1', commandType: 'RunShellScript', commandContent: 'echo "hi from $OOS_INSTANCE_ID in $OOS_REGION_ID"', timeout: 30 };

  it('is refused while the local command runner is off (the default)', async () => {
    const { engine } = acsEngine({ inventory });
    const err = await failure(engine.runTask(req('ACS::ECS::RunCommand', command)));
    expect(err.code).toBe('OOS.CommandRunnerDisabled');
    expect(err.message).toMatch(/local command runner is off.*Enable it in the configuration/);
    await engine.close();
  });

  it('while off, fixtures may answer it', async () => {
    const { engine } = acsEngine({ inventory, fixtures: { Templates: { 'ACS::ECS::RunCommand': [{ When: { instanceId: 'i-1' }, Response: { invocationOutput: 'fixture\n' } }] } } });
    expect(await engine.runTask(req('ACS::ECS::RunCommand', command))).toEqual({ invocationOutput: 'fixture\n' });
    await engine.close();
  });

  it('runs a real local command when enabled', async () => {
    const { engine } = acsEngine({ inventory, commandRunner: { enabled: true } });
    expect(await engine.runTask(req('ACS::ECS::RunCommand', command))).toEqual({ invocationOutput: 'hi from i-1 in cn-hangzhou\n', exitCode: 0, instanceId: 'i-1' });
    const err = await failure(engine.runTask(req('ACS::ECS::RunCommand', { ...command, commandContent: 'echo oops >&2; exit 3' })));
    expect(err).toMatchObject({ code: 'OOS.CommandFailed', message: expect.stringMatching(/exited with code 3: oops/) });
    await engine.close();
  });

  it('uses a configured runner; custom parameters fill {{name}} when enableParameter is on', async () => {
    const seen: CommandRequest[] = [];
    const { engine } = acsEngine({
      inventory,
      commandRunner: {
        enabled: true,
        run: async (r) => {
          seen.push(r);
          return { exitCode: 0, output: 'done' };
        },
      },
    });
    const out = await engine.runTask(req('ACS::ECS::RunCommand', { instanceId: 'i-2', commandContent: 'deploy {{version}}', enableParameter: true, parameters: { version: '1.2' } }));
    expect(out).toEqual({ invocationOutput: 'done', exitCode: 0, instanceId: 'i-2' });
    expect(seen[0]).toMatchObject({ content: 'deploy 1.2', commandType: 'RunShellScript', timeoutSeconds: 600, instance: { ResourceId: 'i-2' } });
    expect(await failure(engine.runTask(req('ACS::ECS::RunCommand', { instanceId: 'i-3', regionId: 'cn-hangzhou', commandContent: 'x' })))).toMatchObject({ code: 'OOS.TargetNotFound' });
    await engine.close();
  });
});

describe('ACS::Template', () => {
  it('runs a child through the configured starter, one level deeper, and returns its Outputs', async () => {
    const calls: ChildTemplateRequest[] = [];
    const { engine } = acsEngine({
      startTemplate: async (r) => {
        calls.push(r);
        return { status: 'Success', outputs: { result: r.parameters['x'] ?? null } };
      },
    });
    const out = await engine.runTask(req('ACS::Template', { TemplateName: 'child', TemplateVersion: 'v2', Parameters: { x: 1 } }, { flowName: 'parent', depth: 1, flowChain: ['root', 'parent'] }));
    expect(out).toEqual({ result: 1 });
    expect(calls[0]).toMatchObject({ templateName: 'child', templateVersion: 'v2', depth: 2, chain: ['root', 'parent', 'child'], parentExecutionName: 'exec-1', taskName: 'task' });
    await engine.close();
  });

  it('refuses more than 3 levels and cycles; reports a failed child; fixtures answer product actions', async () => {
    const { engine } = acsEngine({
      startTemplate: async () => ({ status: 'Failed', error: { Code: 'InvalidX', Detail: 'bad' }, executionId: 'exec-c' }),
      fixtures: { Templates: { 'ACS::ECS::StartInstance': [{ Response: { started: true } }] } },
    });
    expect(await failure(engine.runTask(req('ACS::Template', { TemplateName: 'c' }, { depth: 3 })))).toMatchObject({ code: 'OOS.ChildExecutionFailed', message: expect.stringMatching(/at most 3 levels/) });
    expect(await failure(engine.runTask(req('ACS::Template', { TemplateName: 'a' }, { flowName: 'b', flowChain: ['a', 'b'] })))).toMatchObject({ message: expect.stringMatching(/already running on this chain \(a → b → a\)/) });
    expect(await failure(engine.runTask(req('ACS::Template', { TemplateName: 'c' })))).toMatchObject({ code: 'OOS.ChildExecutionFailed', message: expect.stringMatching(/exec-c of c ended Failed \(InvalidX: bad\)/) });
    expect(await engine.runTask(req('ACS::Template', { TemplateName: 'ACS::ECS::StartInstance', Parameters: { instanceId: 'i-1' } }))).toEqual({ started: true });
    await engine.close();
  });

  it('without a starter or fixture: OOS.TemplateUnavailable', async () => {
    const { engine } = acsEngine();
    expect(await failure(engine.runTask(req('ACS::Template', { TemplateName: 'x' })))).toMatchObject({ code: 'OOS.TemplateUnavailable' });
    await engine.close();
  });
});

describe('ACS::Approve, ACS::Notify, ACS::Pause', () => {
  it('Approve posts its WebHook notification; Notify posts and returns the status; Pause does nothing', async () => {
    const { engine } = acsEngine();
    const before = received.length;
    const hook = { URI: `${base}/robot`, Headers: { 'X-Token': 't' }, Content: { msgtype: 'text', text: { content: 'approve?' } } };
    expect(await engine.runTask(req('ACS::Approve', { NotifyType: 'WebHook', WebHook: hook, Approvers: ['a'] }))).toEqual({ Notified: true });
    expect(await engine.runTask(req('ACS::Approve', { Approvers: ['a'] }))).toEqual({ Notified: false });
    expect(await engine.runTask(req('ACS::Notify', { NotifyType: 'WebHook', WebHook: hook }))).toEqual({ StatusCode: 200 });
    expect(await engine.runTask(req('ACS::Pause', {}))).toEqual({});
    expect(received.slice(before).map((r) => [r.method, r.url, JSON.parse(r.body), r.headers['x-token']])).toEqual([
      ['POST', '/robot', hook.Content, 't'],
      ['POST', '/robot', hook.Content, 't'],
    ]);
    expect(await failure(engine.runTask(req('ACS::Notify', {})))).toMatchObject({ code: 'OOS.InvalidParameters' });
    await engine.close();
  });
});

describe('registry and configuration', () => {
  it('registers every ACS action with a parameters schema and a risk flag', () => {
    const { registry } = acsEngine();
    const names = registry.names().filter((n) => n.startsWith('ACS::'));
    expect(names).toEqual(['ACS::Approve', 'ACS::CheckFor', 'ACS::ECS::RunCommand', 'ACS::ExecuteAPI', 'ACS::Notify', 'ACS::Pause', 'ACS::SelectTargets', 'ACS::Template', 'ACS::WaitFor']);
    expect(registry.get('ACS::ExecuteAPI')?.highRisk).toBe(true);
    expect(registry.get('ACS::SelectTargets')?.highRisk).toBe(false);
    expect(registry.checkParameters('ACS::ExecuteAPI', { API: 'X' })).toEqual(['Parameter /Service is required by ACS::ExecuteAPI.']);
  });

  it('high-risk APIs by a configurable pattern', () => {
    expect(['DeleteInstance', 'ReleaseEipAddress', 'StopInstances', 'RebootInstance', 'ACS::ECS::DeleteInstance'].every((a) => isHighRiskApi(a))).toBe(true);
    expect(isHighRiskApi('DescribeInstances')).toBe(false);
    expect(isHighRiskApi('ModifyInstanceSpec', /^Modify/)).toBe(true);
    expect(DEFAULT_HIGH_RISK_API_PATTERN.test('StartInstance')).toBe(false);
  });

  it('fixtures and inventory files are checked when loaded', async () => {
    expect(() => parseAcsFixtures('Services: { ECS: { X: [{ Reply: 1 }] } }')).toThrow(expect.objectContaining({ code: 'OOS.InvalidConfig', message: expect.stringMatching(/must NOT have additional properties/) }));
    expect(() => parseInventory('Resources: [{ ResourceId: a }, { InstanceId: a }]')).toThrow(/resource 'a' is listed twice/);
    expect(() => parseInventory('Resources: [{ Tags: {} }]')).toThrow(expect.objectContaining({ code: 'OOS.InvalidConfig' }));
    const example = await loadInventory('flows/templates/local/inventory.yaml');
    expect(example.Resources.map((r) => r.ResourceId)).toContain('i-web-001');
    await expect(loadInventory('nowhere.yaml')).rejects.toMatchObject({ code: 'OOS.InvalidConfig' });
  });
});
