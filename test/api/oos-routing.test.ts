/**
 * Which product answers a request: `Version` 2019-06-01 → OOS, 2019-03-15 → FnF; without a Version
 * (path style only), an action name FnF serves is FnF's (StartExecution, ListExecutions,
 * DeleteExecutions…) and any other OOS name is OOS's.
 */
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app.js';
import type { AuthRequest } from '../../src/api/app.js';
import { OOS_ACTION_NAMES, routeProduct } from '../../src/api/oos-actions.js';
import { ACTION_NAMES } from '../../src/api/actions.js';
import { FlowService } from '../../src/fnf/service.js';
import { oos, oosRpc, OosWorld, silent } from '../oos-executions/helpers.js';
import type { OosNode } from '../oos-executions/helpers.js';

const SLEEPY = `FormatVersion: OOS-2019-06-01
Tasks:
  - Name: nap
    Action: ACS::Sleep
    Properties: { Duration: PT1M }
`;

let world: OosWorld;
let node: OosNode;
const seen: AuthRequest[] = [];
let app: ReturnType<typeof createApp>;

beforeAll(async () => {
  world = new OosWorld();
  node = await world.node();
  app = createApp({ service: new FlowService({ runtime: node.runtime, logger: silent }), oos: node.oos, logger: silent, authenticate: (r) => void seen.push(r) });
  await oos(app, 'CreateTemplate', { TemplateName: 'sleepy', Content: SLEEPY });
});
afterAll(async () => world.dispose());

describe('routing by Version', () => {
  it('the rule, as a function', () => {
    expect(routeProduct('2019-06-01', 'rpc', 'StartExecution')).toBe('oos');
    expect(routeProduct('2019-03-15', 'path', 'NotifyExecution')).toBe('fnf');
    expect(routeProduct(undefined, 'path', 'StartExecution')).toBe('fnf');
    expect(routeProduct(undefined, 'path', 'NotifyExecution')).toBe('oos');
    expect(routeProduct(undefined, 'rpc', 'NotifyExecution')).toBe('fnf');
    expect(routeProduct('1999-01-01', 'path', 'CreateTemplate')).toBe('fnf');
    // the names both products serve resolve to FnF without a Version
    const shared = OOS_ACTION_NAMES.filter((a) => (ACTION_NAMES as string[]).includes(a));
    expect(shared.sort()).toEqual(['DeleteExecutions', 'ListExecutions', 'StartExecution']);
    for (const a of shared) expect(routeProduct('', 'path', a)).toBe('fnf');
  });

  it('StartExecution with Version 2019-06-01 is OOS (body, RPC query, or x-acs-version header)', async () => {
    const body = await oos(app, 'StartExecution', { TemplateName: 'sleepy' });
    expect(body.status).toBe(200);
    expect(body.body.Execution.Status).toBe('Started');
    const rpc = await oosRpc(app, 'StartExecution', { TemplateName: 'sleepy' });
    expect(rpc.body.Execution.ExecutionId).toMatch(/^exec-/);
    const header = await request(app).post('/StartExecution').set('x-acs-version', '2019-06-01').send({ TemplateName: 'sleepy' });
    expect(header.body.Execution.TemplateName).toBe('sleepy');
  });

  it('StartExecution without a Version is FnF (it asks for FlowName)', async () => {
    const res = await request(app).post('/StartExecution').send({ TemplateName: 'sleepy' });
    expect(res.status).toBe(400);
    expect(res.body.Code).toBe('MissingRequiredParams');
    expect(res.body.Message).toContain('FlowName');
    const fnf = await request(app).post('/ListExecutions').send({ Version: '2019-03-15', TemplateName: 'sleepy' });
    expect(fnf.body.Code).toBe('MissingRequiredParams');
  });

  it('an OOS-only name without a Version is OOS', async () => {
    const res = await request(app).post('/NotifyExecution').send({ ExecutionId: 'exec-00000000000000000000', NotifyType: 'Approve' });
    expect(res.status).toBe(404);
    expect(res.body.Code).toBe('EntityNotExist.Execution');
    const list = await request(app).post('/ListTemplates').send({});
    expect(list.body.Templates.map((t: { TemplateName: string }) => t.TemplateName)).toEqual(['sleepy']);
  });

  it('RPC style needs a Version; an unknown one, or OOS without the service, is APIVersionNotSupported', async () => {
    expect((await request(app).get('/?Action=NotifyExecution&ExecutionId=x&NotifyType=Approve')).body.Code).toBe('APIVersionNotSupported');
    expect((await request(app).get('/?Action=ListTemplates&Version=2020-01-01')).body.Code).toBe('APIVersionNotSupported');
    const fnfOnly = createApp({ service: new FlowService({ runtime: node.runtime, logger: silent }), logger: silent });
    const res = await request(fnfOnly).get('/?Action=ListTemplates&Version=2019-06-01');
    expect(res.status).toBe(400);
    expect(res.body.Code).toBe('APIVersionNotSupported');
  });

  it('an action OOS does not serve, with Version 2019-06-01 → InvalidAction.NotFound', async () => {
    const res = await request(app).get('/?Action=CreateFlow&Version=2019-06-01');
    expect(res.status).toBe(400);
    expect(res.body.Code).toBe('InvalidAction.NotFound');
  });

  it('the authenticator sees OOS requests with their action name', async () => {
    seen.length = 0;
    await oosRpc(app, 'ListTemplates');
    expect(seen.map((r) => [r.action, r.style])).toEqual([['ListTemplates', 'rpc']]);
  });
});
