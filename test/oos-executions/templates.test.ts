/** The template API: Create/Update/Delete/Get/List/ListVersions/ValidateTemplateContent. */
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { oos, oosRpc, OosWorld } from './helpers.js';
import type { OosNode } from './helpers.js';

const V1 = `FormatVersion: OOS-2019-06-01
Description:
  en: sleeps a while
Parameters:
  seconds: { Type: Number, Default: 60 }
Tasks:
  - Name: nap
    Action: ACS::Sleep
    Properties: { Duration: 'PT{{ seconds }}S' }
`;
const V2 = V1.replace('sleeps a while', 'sleeps longer').replace('Default: 60', 'Default: 120');
const JSON_TEMPLATE = JSON.stringify({ FormatVersion: 'OOS-2019-06-01', Tasks: [{ Name: 'nap', Action: 'ACS::Sleep', Properties: { Duration: 'PT1S' } }] });

let world: OosWorld;
let node: OosNode;
beforeEach(async () => {
  world = new OosWorld();
  node = await world.node();
});
afterEach(async () => world.dispose());

describe('CreateTemplate / UpdateTemplate / GetTemplate', () => {
  it('creates v1 with the API shape; Update adds v2; Get answers the latest or a given version', async () => {
    const created = await oos(node.app, 'CreateTemplate', { TemplateName: 'napper', Content: V1, VersionName: 'first', Tags: JSON.stringify({ team: 'ops' }) });
    expect(created.status).toBe(200);
    expect(created.body.Template).toMatchObject({
      TemplateName: 'napper',
      TemplateVersion: 'v1',
      TemplateFormat: 'YAML',
      ShareType: 'Private',
      TemplateType: 'Automation',
      VersionName: 'first',
      Tags: { team: 'ops' },
      Description: JSON.stringify({ en: 'sleeps a while' }),
      Hash: createHash('sha256').update(V1).digest('hex'),
      CreatedDate: '2026-01-01T00:00:00Z',
      HasTrigger: false,
    });
    expect(created.body.Template.TemplateId).toMatch(/^t-[0-9a-f]{20}$/);
    await world.clock.advance(60_000);
    const updated = await oos(node.app, 'UpdateTemplate', { TemplateName: 'napper', Content: V2 });
    expect(updated.body.Template).toMatchObject({ TemplateVersion: 'v2', TemplateId: created.body.Template.TemplateId, Tags: { team: 'ops' }, CreatedDate: '2026-01-01T00:00:00Z', UpdatedDate: '2026-01-01T00:01:00Z' });
    const latest = await oos(node.app, 'GetTemplate', { TemplateName: 'napper' });
    expect(latest.body.Content).toBe(V2);
    expect(latest.body.Template.TemplateVersion).toBe('v2');
    const first = await oos(node.app, 'GetTemplate', { TemplateName: 'napper', TemplateVersion: 'v1' });
    expect(first.body.Content).toBe(V1);
    const json = await oos(node.app, 'CreateTemplate', { TemplateName: 'json-one', Content: JSON_TEMPLATE });
    expect(json.body.Template.TemplateFormat).toBe('JSON');
  });

  it('name rules: reserved prefixes, characters, length → 400 InvalidParameter', async () => {
    for (const name of ['ACS-mine', 'aliyun_x', 'ALIBABA1', 'alicloud-t', 'has space', 'a:b', 'x'.repeat(201)]) {
      const res = await oos(node.app, 'CreateTemplate', { TemplateName: name, Content: V1 });
      expect(res.status, name).toBe(400);
      expect(res.body.Code, name).toBe('InvalidParameter');
    }
    expect((await oos(node.app, 'CreateTemplate', { TemplateName: 'x'.repeat(200), Content: V1 })).status).toBe(200);
  });

  it('a name taken → 409 EntityAlreadyExists.Template; unknown names → 404 EntityNotExists.Template', async () => {
    await oos(node.app, 'CreateTemplate', { TemplateName: 'napper', Content: V1 });
    const again = await oos(node.app, 'CreateTemplate', { TemplateName: 'napper', Content: V2 });
    expect(again.status).toBe(409);
    expect(again.body.Code).toBe('EntityAlreadyExists.Template');
    for (const [action, body] of [
      ['UpdateTemplate', { TemplateName: 'nope', Content: V1 }],
      ['GetTemplate', { TemplateName: 'nope' }],
      ['GetTemplate', { TemplateName: 'napper', TemplateVersion: 'v7' }],
      ['DeleteTemplate', { TemplateName: 'nope' }],
      ['ListTemplateVersions', { TemplateName: 'nope' }],
      ['ListExecutionRiskyTasks', { TemplateName: 'nope' }],
    ] as const) {
      const res = await oos(node.app, action, body);
      expect(res.status, action).toBe(404);
      expect(res.body.Code, action).toBe('EntityNotExists.Template');
    }
    expect((await oos(node.app, 'GetTemplate', { TemplateName: 'napper', TemplateVersion: 'latest' })).body.Code).toBe('InvalidParameter');
  });

  it('invalid content → 400 TemplateValidationError naming every problem; over 64 KB too', async () => {
    const bad = V1.replace('ACS::Sleep', 'ACS::Slep').replace("Properties: { Duration: 'PT{{ seconds }}S' }", "Properties: { Duration: '{{ missing }}' }");
    const res = await oos(node.app, 'CreateTemplate', { TemplateName: 'broken', Content: bad });
    expect(res.status).toBe(400);
    expect(res.body.Code).toBe('TemplateValidationError');
    expect(res.body.Message).toContain('/Tasks/0/Action');
    expect(res.body.Message).toContain("unknown action 'ACS::Slep'");
    expect(res.body.Message).toContain('missing');
    const big = `${V1}\n# ${'x'.repeat(65 * 1024)}\n`;
    const large = await oos(node.app, 'CreateTemplate', { TemplateName: 'large', Content: big });
    expect(large.body.Code).toBe('TemplateValidationError');
    expect(large.body.Message).toContain('64 KB');
    expect((await oos(node.app, 'UpdateTemplate', { TemplateName: 'large', Content: V1 })).status).toBe(404);
  });

  it('missing required parameters → 400 InvalidParameter naming them', async () => {
    const res = await oos(node.app, 'CreateTemplate', { TemplateName: 'napper' });
    expect(res.status).toBe(400);
    expect(res.body.Code).toBe('InvalidParameter');
    expect(res.body.Message).toContain('Content is required');
  });
});

describe('ListTemplates / ListTemplateVersions / DeleteTemplate', () => {
  it('filters by name, sorts, and pages with MaxResults 10–100 and NextToken', async () => {
    for (let i = 0; i < 12; i++) await oos(node.app, 'CreateTemplate', { TemplateName: `t${String(i).padStart(2, '0')}`, Content: V1 });
    await oos(node.app, 'CreateTemplate', { TemplateName: 'json-only', Content: JSON_TEMPLATE });
    const first = await oos(node.app, 'ListTemplates', { TemplateName: 't', SortField: 'TemplateName', SortOrder: 'Ascending', MaxResults: 10 });
    expect(first.body.Templates).toHaveLength(10);
    expect(first.body.Templates[0].TemplateName).toBe('t00');
    const second = await oos(node.app, 'ListTemplates', { TemplateName: 't', SortField: 'TemplateName', SortOrder: 'Ascending', MaxResults: 10, NextToken: first.body.NextToken });
    expect(second.body.Templates.map((t: { TemplateName: string }) => t.TemplateName)).toEqual(['t10', 't11']);
    expect(second.body).not.toHaveProperty('NextToken');
    const json = await oos(node.app, 'ListTemplates', { TemplateFormat: 'JSON' });
    expect(json.body.Templates.map((t: { TemplateName: string }) => t.TemplateName)).toEqual(['json-only']);
    expect((await oos(node.app, 'ListTemplates', { MaxResults: 5 })).body.Code).toBe('InvalidParameter');
    expect((await oos(node.app, 'ListTemplates', { SortField: 'Size' })).body.Code).toBe('InvalidParameter');
  });

  it('the default order is TotalExecutionCount, descending', async () => {
    await oos(node.app, 'CreateTemplate', { TemplateName: 'rare', Content: V1 });
    await oos(node.app, 'CreateTemplate', { TemplateName: 'popular', Content: V1 });
    await oos(node.app, 'StartExecution', { TemplateName: 'popular' });
    await oos(node.app, 'StartExecution', { TemplateName: 'popular' });
    await oos(node.app, 'StartExecution', { TemplateName: 'rare' });
    const res = await oos(node.app, 'ListTemplates', {});
    expect(res.body.Templates.map((t: { TemplateName: string; TotalExecutionCount: number }) => [t.TemplateName, t.TotalExecutionCount])).toEqual([
      ['popular', 2],
      ['rare', 1],
    ]);
  });

  it('ListTemplateVersions lists every version, newest first', async () => {
    await oos(node.app, 'CreateTemplate', { TemplateName: 'napper', Content: V1, VersionName: 'one' });
    await oos(node.app, 'UpdateTemplate', { TemplateName: 'napper', Content: V2, VersionName: 'two' });
    const res = await oos(node.app, 'ListTemplateVersions', { TemplateName: 'napper' });
    expect(res.body.TemplateVersions.map((v: { TemplateVersion: string; VersionName: string }) => `${v.TemplateVersion}:${v.VersionName}`)).toEqual(['v2:two', 'v1:one']);
    expect(res.body.MaxResults).toBe(50);
  });

  it('DeleteTemplate removes every version; AutoDeleteExecutions removes its executions too', async () => {
    await oos(node.app, 'CreateTemplate', { TemplateName: 'napper', Content: V1 });
    const started = await oos(node.app, 'StartExecution', { TemplateName: 'napper' });
    await node.settle();
    await node.advance(60_000);
    expect((await oos(node.app, 'DeleteTemplate', { TemplateName: 'napper', AutoDeleteExecutions: true })).status).toBe(200);
    expect((await oos(node.app, 'GetTemplate', { TemplateName: 'napper' })).status).toBe(404);
    expect((await oos(node.app, 'ListExecutions', { ExecutionId: started.body.Execution.ExecutionId })).body.Executions).toEqual([]);
  });
});

describe('ValidateTemplateContent', () => {
  it('answers Parameters, Outputs (JSON text) and Tasks; over RPC too', async () => {
    const res = await oosRpc(node.app, 'ValidateTemplateContent', { Content: V1 });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body.Parameters)).toEqual({ seconds: { Type: 'Number', Default: 60 } });
    expect(res.body.Outputs).toBe('{}');
    expect(res.body.Tasks).toEqual([{ Name: 'nap', Type: 'ACS::Sleep', Description: '', Properties: JSON.stringify({ Duration: 'PT{{ seconds }}S' }), Outputs: '{}' }]);
  });

  it('invalid content → TemplateValidationError; TemplateURL → InvalidParameter', async () => {
    const bad = await oos(node.app, 'ValidateTemplateContent', { Content: 'FormatVersion: OOS-2019-06-01\nTasks: 3\n' });
    expect(bad.status).toBe(400);
    expect(bad.body.Code).toBe('TemplateValidationError');
    const url = await oos(node.app, 'ValidateTemplateContent', { TemplateURL: 'https://example.com/t.yml' });
    expect(url.body.Code).toBe('InvalidParameter');
  });
});

describe('versions and executions', () => {
  it('an execution runs the version that was current when it started, also across an update and a restart', async () => {
    await oos(node.app, 'CreateTemplate', { TemplateName: 'napper', Content: V1 });
    const started = await oos(node.app, 'StartExecution', { TemplateName: 'napper' });
    const id = started.body.Execution.ExecutionId as string;
    await node.settle();
    await oos(node.app, 'UpdateTemplate', { TemplateName: 'napper', Content: V2 });
    const tpl = await oos(node.app, 'GetExecutionTemplate', { ExecutionId: id });
    expect(tpl.body.Content).toBe(V1);
    expect(tpl.body.Template.TemplateVersion).toBe('v1');
    await node.stop();
    node = await world.node();
    expect(await node.runner.recover()).toBe(1);
    await node.advance(60_000);
    const e = (await oos(node.app, 'ListExecutions', { ExecutionId: id })).body.Executions[0];
    expect(e.Status).toBe('Success');
    expect(e.Parameters).toEqual({ seconds: 60 });
    const v2 = await oos(node.app, 'StartExecution', { TemplateName: 'napper' });
    expect(v2.body.Execution.TemplateVersion).toBe('v2');
    expect(JSON.parse(v2.body.Execution.Parameters)).toEqual({ seconds: 120 });
  });
});
