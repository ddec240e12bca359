/** The example templates of flows/templates/ against its fixtures and inventory (flows/templates/local/). */
import { beforeAll, describe, expect, it } from 'vitest';
import type { ChildTemplateRequest, ChildTemplateResult } from '../../src/engine/actions/acs.js';
import { loadAcsFixtures, loadInventory } from '../../src/engine/actions/acs-config.js';
import type { AcsFixtures, Inventory } from '../../src/engine/actions/acs-config.js';
import type { TaskRunner } from '../../src/engine/index.js';
import { runExecution } from '../../src/interpreter/run.js';
import { checkParameters, loadTemplateDirectory } from '../../src/oos/index.js';
import type { LoadedTemplate } from '../../src/oos/index.js';
import type { JsonObject } from '../../src/shared/json.js';
import { acsEngine, rootSteps, run, withApprovals } from './helpers.js';

let templates: Map<string, LoadedTemplate>;
let fixtures: AcsFixtures;
let inventory: Inventory;

beforeAll(async () => {
  const loaded = await loadTemplateDirectory('flows/templates');
  expect([...loaded.failures.entries()]).toEqual([]);
  templates = loaded.templates;
  fixtures = await loadAcsFixtures('flows/templates/local/fixtures.yaml');
  inventory = await loadInventory('flows/templates/local/inventory.yaml');
});

function template(name: string): LoadedTemplate['template'] {
  const t = templates.get(name)?.template;
  if (!t) throw new Error(`no template ${name}`);
  return t;
}

describe('flows/templates', () => {
  it('holds the three examples, all valid', () => {
    expect([...templates.keys()].sort()).toEqual(['CDN-SetDomainServerCertificate', 'ECS-ApproveBulkyRunCommand', 'ECS-BulkyRunCommand']);
    expect(templates.get('CDN-SetDomainServerCertificate')?.template.format).toBe('YAML');
  });
});

describe('ECS-BulkyRunCommand', () => {
  it('selects instances by tag from the inventory and runs the command on each (answered by fixtures while the runner is off)', async () => {
    const { engine } = acsEngine({ fixtures, inventory });
    const r = await run(
      template('ECS-BulkyRunCommand'),
      { targets: { Type: 'Tags', Tags: [{ Key: 'app', Value: 'web' }], RegionId: 'cn-hangzhou' }, commandContent: 'systemctl is-active nginx' },
      engine.runTask,
    );
    expect(r.status).toBe('Succeeded');
    expect(r.output).toEqual({ commandOutputs: ['web-001: ok\n', 'web-002: ok\n'], instanceCount: 2 });
    expect(r.events.filter((e) => e.type === 'IterationEntered')).toHaveLength(2);
    await engine.close();
  });

  it('runs through the local command runner when it is enabled', async () => {
    const { engine } = acsEngine({
      fixtures,
      inventory,
      commandRunner: { enabled: true, run: async (q) => ({ exitCode: 0, output: `${q.instance.ResourceId}:${q.content}:${q.timeoutSeconds}` }) },
    });
    const r = await run(
      template('ECS-BulkyRunCommand'),
      { targets: { Type: 'ResourceIds', ResourceIds: ['i-db-001', 'i-web-002'] }, commandContent: 'uptime', timeout: '30' },
      engine.runTask,
    );
    expect(r.status).toBe('Succeeded');
    expect(r.output).toEqual({ commandOutputs: ['i-db-001:uptime:30', 'i-web-002:uptime:30'], instanceCount: 2 });
    await engine.close();
  });

  it('selects managed instances when resourceType says so', async () => {
    const { engine } = acsEngine({ fixtures, inventory });
    const r = await run(
      template('ECS-BulkyRunCommand'),
      { resourceType: 'ALIYUN::ECS::ManagedInstance', targets: { Type: 'Tags', Tags: [{ Key: 'env', Value: 'prod' }] }, commandContent: 'hostname' },
      engine.runTask,
    );
    expect(r.status).toBe('Succeeded');
    expect(r.output).toEqual({ commandOutputs: ['onprem-01: ok\n'], instanceCount: 1 });
    await engine.close();
  });

  it('fails clearly for an instance missing from the inventory, and for bad parameters', async () => {
    const { engine } = acsEngine({ fixtures, inventory });
    const r = await run(template('ECS-BulkyRunCommand'), { targets: { Type: 'ResourceIds', ResourceIds: ['i-nope'] }, commandContent: 'ls' }, engine.runTask);
    expect(r.status).toBe('Failed');
    expect(r.error?.Code).toBe('OOS.TargetNotFound');
    expect(() => checkParameters(template('ECS-BulkyRunCommand'), { targets: {}, commandContent: 'ls', commandType: 'RunBatScript' })).toThrow(
      expect.objectContaining({ code: 'TemplateValidationError' }),
    );
    await engine.close();
  });
});

describe('ECS-ApproveBulkyRunCommand', () => {
  /** Runs ACS::Template children from flows/templates on the same engine (a nested execution). */
  function childRunner(tasks: () => TaskRunner, started: ChildTemplateRequest[]) {
    return async (q: ChildTemplateRequest): Promise<ChildTemplateResult> => {
      started.push(q);
      const child = template(q.templateName);
      const input = checkParameters(child, q.parameters, `${q.parentExecutionName}-child`);
      const r = await runExecution(child.flow, input, { tasks: tasks(), executionName: `${q.parentExecutionName}-child`, depth: q.depth, flowChain: q.chain, timeoutMs: 60_000 });
      return r.status === 'Succeeded' ? { status: 'Success', outputs: r.output ?? {} } : { status: 'Failed', error: r.error ?? { Code: 'x', Detail: '' } };
    };
  }

  const params = {
    targets: { Type: 'ResourceIds', ResourceIds: ['i-web-001', 'i-web-002'] },
    commandContent: 'echo hi',
    webHookUrl: 'https://chat.example.com/robot',
    approvers: ['alice', 'bob'],
  };

  it('waits for approval, then runs ECS-BulkyRunCommand as a child execution and returns its outputs', async () => {
    const started: ChildTemplateRequest[] = [];
    let runner: TaskRunner = () => Promise.reject(new Error('not ready'));
    const { engine } = acsEngine({ fixtures, inventory, startTemplate: childRunner(() => runner, started) });
    runner = withApprovals(engine.runTask, () => 'Approve');
    const approvals = runner as ReturnType<typeof withApprovals>;
    const r = await run(template('ECS-ApproveBulkyRunCommand'), params, runner, { executionName: 'exec-parent' });
    expect(r.status).toBe('Succeeded');
    expect(r.output).toEqual({ commandOutputs: ['web-001: ok\n', 'web-002: ok\n'] });
    expect(approvals.approvals).toHaveLength(1);
    const approval = approvals.approvals[0]?.parameters as JsonObject;
    expect(approval).toMatchObject({ Approvers: ['alice', 'bob'], MinRequiredApprovals: 1, NotifyType: 'WebHook', WebHook: { URI: 'https://chat.example.com/robot' } });
    expect(JSON.stringify(approval)).toMatch(/in cn-hangzhou \(execution exec-parent\)/);
    expect(started).toHaveLength(1);
    expect(started[0]).toMatchObject({ templateName: 'ECS-BulkyRunCommand', depth: 1, parentExecutionName: 'exec-parent', parameters: { targets: params.targets, rateControl: { Concurrency: 10 } } });
    expect(rootSteps(r)).toEqual(['approveBulkyRunCommand', 'bulkyRunCommand', 'ACS::END']);
    await engine.close();
  });

  it('a rejection stops before the child starts', async () => {
    const started: ChildTemplateRequest[] = [];
    const { engine } = acsEngine({ fixtures, inventory, startTemplate: childRunner(() => engine.runTask, started) });
    const r = await run(template('ECS-ApproveBulkyRunCommand'), params, withApprovals(engine.runTask, () => 'Reject'));
    expect(r.status).toBe('Failed');
    expect(r.error?.Code).toBe('OOS.Rejected');
    expect(started).toHaveLength(0);
    await engine.close();
  });
});

describe('CDN-SetDomainServerCertificate (ACS::Choice)', () => {
  it('ends at once when the certificate is already on', async () => {
    const { engine } = acsEngine({ fixtures, inventory });
    const r = await run(template('CDN-SetDomainServerCertificate'), { domainName: 'secure.example.com' }, engine.runTask);
    expect(r.status).toBe('Succeeded');
    expect(r.output).toEqual({ previousStatus: 'on', changed: false, requestId: null });
    expect(rootSteps(r)).toEqual(['getDomainDetail', 'whetherCertificateIsOn', 'ACS::END']);
    await engine.close();
  });

  it('turns it on otherwise (the fixture checks the call parameters)', async () => {
    const { engine } = acsEngine({ fixtures, inventory });
    const r = await run(template('CDN-SetDomainServerCertificate'), { domainName: 'plain.example.com' }, engine.runTask);
    expect(r.status).toBe('Succeeded');
    expect(r.output).toEqual({ previousStatus: 'off', changed: true, requestId: '9F1A-SET' });
    await engine.close();
  });

  it('an unknown domain has no fixture: the execution fails with a hint', async () => {
    const { engine } = acsEngine({ fixtures, inventory });
    const r = await run(template('CDN-SetDomainServerCertificate'), { domainName: 'other.example.com' }, engine.runTask);
    expect(r.status).toBe('Failed');
    expect(r.error?.Code).toBe('OOS.FixtureNotFound');
    expect(r.error?.Detail).toMatch(/Services.CDN.DescribeCdnDomainDetail/);
    await engine.close();
  });
});
