/**
 * The example templates of flows/templates/, loaded from the folder at start, run end to end
 * against the fixture adapter and the local inventory of flows/templates/local/ (the local
 * command runner stays off: the fixtures answer ACS::ECS::RunCommand).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { hookServer, oos, oosRpc, OosWorld } from './helpers.js';
import type { OosNode } from './helpers.js';

let world: OosWorld;
let node: OosNode;

beforeEach(async () => {
  world = new OosWorld();
  node = await world.node({
    templatesDir: 'flows/templates',
    fixturesPath: 'flows/templates/local/fixtures.yaml',
    inventoryPath: 'flows/templates/local/inventory.yaml',
  });
});
afterEach(async () => world.dispose());

const run = async (template: string, parameters: object): Promise<Record<string, unknown>> => {
  const res = await oos(node.app, 'StartExecution', { TemplateName: template, Parameters: JSON.stringify(parameters) });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.Execution as Record<string, unknown>;
};
const get = async (id: unknown): Promise<Record<string, unknown>> => (await oos(node.app, 'ListExecutions', { ExecutionId: id, IncludeChildExecution: true })).body.Executions[0];

describe('flows/templates', () => {
  it('are loaded at start, as version v1 of each file name', async () => {
    const res = await oos(node.app, 'ListTemplates', { SortField: 'TemplateName', SortOrder: 'Ascending' });
    expect(res.body.Templates.map((t: { TemplateName: string; TemplateVersion: string }) => `${t.TemplateName}@${t.TemplateVersion}`)).toEqual([
      'CDN-SetDomainServerCertificate@v1',
      'ECS-ApproveBulkyRunCommand@v1',
      'ECS-BulkyRunCommand@v1',
    ]);
    // loading the folder again leaves unchanged files alone
    await node.oos.templates.loadDirectory('flows/templates');
    expect((await oos(node.app, 'ListTemplateVersions', { TemplateName: 'ECS-BulkyRunCommand' })).body.TemplateVersions).toHaveLength(1);
  });

  it('ECS-BulkyRunCommand: SelectTargets, a loop of RunCommand, ListJoin of the outputs', async () => {
    const e = await run('ECS-BulkyRunCommand', {
      targets: { Type: 'ResourceIds', ResourceIds: ['i-web-001', 'i-web-002', 'i-db-001'], RegionId: 'cn-hangzhou' },
      commandContent: 'hostname',
    });
    await node.settle();
    const done = await get(e['ExecutionId']);
    expect(done['Status']).toBe('Success');
    expect(JSON.parse(done['Outputs'] as string)).toEqual({ commandOutputs: ['web-001: ok\n', 'web-002: ok\n', 'db-001: ok\n'], instanceCount: 3 });
    const rows = (await oos(node.app, 'ListResourceExecutionStatus', { ExecutionId: e['ExecutionId'] })).body.ResourceExecutionStatus;
    expect(rows.map((r: { ResourceId: string; Status: string }) => `${r.ResourceId}:${r.Status}`)).toEqual(['i-db-001:Success', 'i-web-001:Success', 'i-web-002:Success']);
  });

  it('ECS-BulkyRunCommand by tags, over RPC style', async () => {
    const res = await oosRpc(node.app, 'StartExecution', {
      TemplateName: 'ECS-BulkyRunCommand',
      Parameters: JSON.stringify({ targets: { Type: 'Tags', Tags: [{ Key: 'app', Value: 'web' }], RegionId: 'cn-hangzhou' }, commandContent: 'hostname' }),
    });
    expect(res.status).toBe(200);
    await node.settle();
    const done = await get(res.body.Execution.ExecutionId);
    expect(done['Status']).toBe('Success');
    expect(JSON.parse(done['Outputs'] as string).commandOutputs).toEqual(['web-001: ok\n', 'web-002: ok\n']);
  });

  it('ECS-ApproveBulkyRunCommand: the webhook is posted, Approve runs the child BulkyRunCommand', async () => {
    const hooks = await hookServer();
    try {
      const e = await run('ECS-ApproveBulkyRunCommand', {
        targets: { Type: 'ResourceIds', ResourceIds: ['i-web-001'], RegionId: 'cn-hangzhou' },
        commandContent: 'hostname',
        webHookUrl: `${hooks.url}/robot`,
        approvers: ['alice'],
      });
      await vi.waitFor(() => expect(hooks.received).toHaveLength(1));
      await node.settle();
      expect(JSON.parse(hooks.received[0]?.body ?? '{}').text.content).toContain(String(e['ExecutionId']));
      expect((await get(e['ExecutionId']))['Status']).toBe('Waiting');
      await oos(node.app, 'NotifyExecution', { ExecutionId: e['ExecutionId'], NotifyType: 'Approve', Approver: 'alice' });
      await node.settle();
      const done = await get(e['ExecutionId']);
      expect(done['Status']).toBe('Success');
      expect(JSON.parse(done['Outputs'] as string)).toEqual({ commandOutputs: ['web-001: ok\n'] });
      const child = (await oos(node.app, 'ListExecutions', { ParentExecutionId: e['ExecutionId'] })).body.Executions[0];
      expect(child).toMatchObject({ TemplateName: 'ECS-BulkyRunCommand', Status: 'Success' });
      // the parent's resource rows include the child's
      const rows = (await oos(node.app, 'ListResourceExecutionStatus', { ExecutionId: e['ExecutionId'] })).body.ResourceExecutionStatus;
      expect(rows).toEqual([expect.objectContaining({ ResourceId: 'i-web-001', Status: 'Success', ExecutionId: child.ExecutionId })]);
    } finally {
      await hooks.close();
    }
  });

  it('CDN-SetDomainServerCertificate: the Choice sets the certificate only when it is off', async () => {
    const off = await run('CDN-SetDomainServerCertificate', { domainName: 'plain.example.com' });
    const on = await run('CDN-SetDomainServerCertificate', { domainName: 'secure.example.com' });
    await node.settle();
    const changed = await get(off['ExecutionId']);
    expect(changed['Status']).toBe('Success');
    expect(JSON.parse(changed['Outputs'] as string)).toEqual({ previousStatus: 'off', changed: true, requestId: '9F1A-SET' });
    const kept = await get(on['ExecutionId']);
    expect(kept['Status']).toBe('Success');
    expect(JSON.parse(kept['Outputs'] as string)).toEqual({ previousStatus: 'on', changed: false, requestId: null });
    const tasks = (await oos(node.app, 'ListTaskExecutions', { ExecutionId: on['ExecutionId'], SortOrder: 'Ascending' })).body.TaskExecutions;
    expect(tasks.map((t: { TaskName: string }) => t.TaskName)).toEqual(['getDomainDetail', 'whetherCertificateIsOn']);
  });
});
