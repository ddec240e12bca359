/**
 * Tenant isolation with access keys (README, "Security"): flows, templates and executions belong
 * to the account that created them; another account gets AccessDenied (FnF) / User.NoPermission
 * (OOS) and does not see them in lists. Files of the flows folder (and flows/templates) are shared:
 * every account reads, lists and runs them, none changes them. And the local functions gate.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_ERRORS } from '../../src/api/errors.js';
import { startServer } from '../../src/api/server.js';
import type { RunningServer } from '../../src/api/server.js';
import { AccessKey, AccessKeyStore, formatTimestamp, signRpcRequest } from '../../src/auth/index.js';
import { HELLO, silent } from './helpers.js';
import { tempDir } from '../api/helpers.js';

const ALICE = { AccessKeyId: 'LTAIalice0001', AccessKeySecret: 'alice-secret-value', AccountId: '1111111111111111' };
const BOB = { AccessKeyId: 'LTAIbob0002', AccessKeySecret: 'bob-secret-value-xyz', AccountId: '2222222222222222' };
type Key = typeof ALICE;

const SLOW = `Type: StateMachine
Name: slow
SpecVersion: v1
StartAt: Pause
States:
  - Type: Wait
    Name: Pause
    Seconds: 300
    End: true
`;

const SLEEPY = `FormatVersion: OOS-2019-06-01
Tasks:
  - Name: nap
    Action: ACS::Sleep
    Properties: { Duration: PT1H }
`;

const SHARED_TEMPLATE = `FormatVersion: OOS-2019-06-01
Description: a template from the templates folder
Tasks:
  - Name: nap
    Action: ACS::Sleep
    Properties: { Duration: PT1S }
`;

const CALLS_GREET = `Type: StateMachine
Name: callsGreet
SpecVersion: v1
StartAt: Call
States:
  - Type: Task
    Name: Call
    Action: FC:InvokeFunction
    Parameters:
      functionName: greet
      body:
        name: Ada
    End: true
`;

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

async function call(server: RunningServer, key: Key, version: '2019-03-15' | '2019-06-01', action: string, params: Record<string, string> = {}): Promise<Answer> {
  const all: Record<string, string> = {
    Format: 'JSON',
    Version: version,
    AccessKeyId: key.AccessKeyId,
    SignatureMethod: 'HMAC-SHA1',
    SignatureVersion: '1.0',
    SignatureNonce: randomUUID(),
    Timestamp: formatTimestamp(Date.now()),
    Action: action,
    ...params,
  };
  const body = new URLSearchParams({ ...all, Signature: signRpcRequest(all, 'POST', key.AccessKeySecret) }).toString();
  const res = await fetch(`${server.url}/`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const fnf = (s: RunningServer, k: Key, action: string, p: Record<string, string> = {}): Promise<Answer> => call(s, k, '2019-03-15', action, p);
const oos = (s: RunningServer, k: Key, action: string, p: Record<string, string> = {}): Promise<Answer> => call(s, k, '2019-06-01', action, p);

function expectOk(a: Answer): Record<string, unknown> {
  expect(a.body['Code'], JSON.stringify(a.body)).toBeUndefined();
  expect(a.status).toBe(200);
  return a.body;
}

function expectCode(a: Answer, code: keyof typeof API_ERRORS): void {
  expect(a.body['Code'], JSON.stringify(a.body)).toBe(code);
  expect(a.status).toBe(API_ERRORS[code].status);
}

describe('tenant isolation with access keys', () => {
  let server: RunningServer;
  let remove: () => Promise<void>;
  let standardName = '';
  let oosExecution = '';

  beforeAll(async () => {
    const tmp = await tempDir();
    remove = tmp.remove;
    await writeFile(join(tmp.dir, 'hello.yaml'), HELLO);
    await mkdir(join(tmp.dir, 'templates'));
    await writeFile(join(tmp.dir, 'templates', 'SharedNap.yml'), SHARED_TEMPLATE);
    const keys = new AccessKeyStore([ALICE, BOB].map((k) => new AccessKey(k.AccessKeyId, k.AccessKeySecret, k.AccountId)));
    server = await startServer({ port: 0, host: '127.0.0.1', flowsDir: tmp.dir, logger: silent, accessKeys: keys, shutdownGraceMs: 0 });

    expectOk(await fnf(server, ALICE, 'CreateFlow', { Name: 'slow', Definition: SLOW, Description: 'alice', Type: 'FDL', ExecutionMode: 'Standard' }));
    const started = expectOk(await fnf(server, ALICE, 'StartExecution', { FlowName: 'slow', ExecutionName: 'run1' }));
    standardName = started['Name'] as string;
    expectOk(await oos(server, ALICE, 'CreateTemplate', { TemplateName: 'AliceNap', Content: SLEEPY }));
    const execution = expectOk(await oos(server, ALICE, 'StartExecution', { TemplateName: 'AliceNap' }))['Execution'] as Record<string, unknown>;
    oosExecution = execution['ExecutionId'] as string;
  });
  afterAll(async () => {
    await server.close();
    await remove();
  });

  it("the owner sees and uses its flow, its Standard execution, its template and its OOS execution", async () => {
    expect(expectOk(await fnf(server, ALICE, 'DescribeFlow', { Name: 'slow' }))['Name']).toBe('slow');
    const flows = (expectOk(await fnf(server, ALICE, 'ListFlows'))['Flows'] as { Name: string }[]).map((f) => f.Name);
    expect(flows).toEqual(['hello', 'slow']);
    expect(expectOk(await fnf(server, ALICE, 'DescribeExecution', { FlowName: 'slow', ExecutionName: standardName }))['Status']).toBe('Running');
    expect((expectOk(await fnf(server, ALICE, 'ListExecutions', { FlowName: 'slow' }))['Executions'] as unknown[]).length).toBe(1);
    expectOk(await oos(server, ALICE, 'GetTemplate', { TemplateName: 'AliceNap' }));
    const templates = (expectOk(await oos(server, ALICE, 'ListTemplates', { SortField: 'TemplateName', SortOrder: 'Ascending' }))['Templates'] as { TemplateName: string }[]).map((t) => t.TemplateName);
    expect(templates).toEqual(['AliceNap', 'SharedNap']);
    const executions = (expectOk(await oos(server, ALICE, 'ListExecutions'))['Executions'] as { ExecutionId: string }[]).map((e) => e.ExecutionId);
    expect(executions).toEqual([oosExecution]);
  });

  it("another account gets AccessDenied on the owner's flow and Standard execution, by name", async () => {
    expectCode(await fnf(server, BOB, 'DescribeFlow', { Name: 'slow' }), 'AccessDenied');
    expectCode(await fnf(server, BOB, 'UpdateFlow', { Name: 'slow', Description: 'mine now' }), 'AccessDenied');
    expectCode(await fnf(server, BOB, 'DeleteFlow', { Name: 'slow' }), 'AccessDenied');
    expectCode(await fnf(server, BOB, 'CreateFlow', { Name: 'slow', Definition: SLOW, Description: 'bob', Type: 'FDL', ExecutionMode: 'Standard' }), 'AccessDenied');
    expectCode(await fnf(server, BOB, 'StartExecution', { FlowName: 'slow', ExecutionName: 'bob1' }), 'AccessDenied');
    expectCode(await fnf(server, BOB, 'StartSyncExecution', { FlowName: 'slow' }), 'AccessDenied');
    expectCode(await fnf(server, BOB, 'DescribeExecution', { FlowName: 'slow', ExecutionName: standardName }), 'AccessDenied');
    expectCode(await fnf(server, BOB, 'GetExecutionHistory', { FlowName: 'slow', ExecutionName: standardName }), 'AccessDenied');
    expectCode(await fnf(server, BOB, 'ListExecutions', { FlowName: 'slow' }), 'AccessDenied');
    expectCode(await fnf(server, BOB, 'StopExecution', { FlowName: 'slow', ExecutionName: standardName }), 'AccessDenied');
    expectCode(await fnf(server, BOB, 'DeleteExecutions', { FlowName: 'slow', ExecutionNames: JSON.stringify([standardName]) }), 'AccessDenied');
    // and does not see it in its list; the owner's execution still runs
    const flows = (expectOk(await fnf(server, BOB, 'ListFlows'))['Flows'] as { Name: string }[]).map((f) => f.Name);
    expect(flows).toEqual(['hello']);
    expect(expectOk(await fnf(server, ALICE, 'DescribeExecution', { FlowName: 'slow', ExecutionName: standardName }))['Status']).toBe('Running');
  });

  it("another account gets User.NoPermission on the owner's template and OOS execution, and does not list them", async () => {
    for (const [action, params] of [
      ['GetTemplate', { TemplateName: 'AliceNap' }],
      ['UpdateTemplate', { TemplateName: 'AliceNap', Content: SLEEPY }],
      ['DeleteTemplate', { TemplateName: 'AliceNap' }],
      ['ListTemplateVersions', { TemplateName: 'AliceNap' }],
      ['CreateTemplate', { TemplateName: 'AliceNap', Content: SLEEPY }],
      ['StartExecution', { TemplateName: 'AliceNap' }],
      ['NotifyExecution', { ExecutionId: oosExecution, NotifyType: 'Approve' }],
      ['CancelExecution', { ExecutionId: oosExecution }],
      ['ListTaskExecutions', { ExecutionId: oosExecution }],
      ['GetExecutionTemplate', { ExecutionId: oosExecution }],
      ['ListExecutionLogs', { ExecutionId: oosExecution }],
      ['DeleteExecutions', { ExecutionIds: JSON.stringify([oosExecution]) }],
    ] as const) {
      const answer = await oos(server, BOB, action, params);
      expect(answer.body['Code'], `${action}: ${JSON.stringify(answer.body)}`).toBe('User.NoPermission');
      expect(answer.status).toBe(API_ERRORS['User.NoPermission'].status);
    }
    expect((expectOk(await oos(server, BOB, 'ListExecutions'))['Executions'] as unknown[]).length).toBe(0);
    expect((expectOk(await oos(server, BOB, 'ListExecutions', { TemplateName: 'AliceNap' }))['Executions'] as unknown[]).length).toBe(0);
    const templates = (expectOk(await oos(server, BOB, 'ListTemplates'))['Templates'] as { TemplateName: string }[]).map((t) => t.TemplateName);
    expect(templates).toEqual(['SharedNap']);
    // untouched for its owner
    const execution = expectOk(await oos(server, ALICE, 'ListExecutions', { ExecutionId: oosExecution }))['Executions'] as { Status: string }[];
    expect(execution[0]?.Status).toBe('Running');
  });

  it('files of the flows folder are shared: every account lists, describes and runs them, none changes them; executions stay private', async () => {
    const run = expectOk(await fnf(server, BOB, 'StartSyncExecution', { FlowName: 'hello', ExecutionName: 'b1', Input: '{"name":"Bob"}' }));
    expect(run['Status']).toBe('Succeeded');
    expectOk(await fnf(server, BOB, 'DescribeExecution', { FlowName: 'hello', ExecutionName: run['Name'] as string }));
    // express executions are kept per account: Alice does not see Bob's
    expect((expectOk(await fnf(server, ALICE, 'ListExecutions', { FlowName: 'hello' }))['Executions'] as unknown[]).length).toBe(0);
    expectCode(await fnf(server, ALICE, 'DescribeExecution', { FlowName: 'hello', ExecutionName: run['Name'] as string }), 'ExecutionNotExists');
    expect((expectOk(await fnf(server, BOB, 'ListExecutions', { FlowName: 'hello' }))['Executions'] as unknown[]).length).toBe(1);
    expectCode(await fnf(server, BOB, 'UpdateFlow', { Name: 'hello', Description: 'mine' }), 'AccessDenied');
    expectCode(await fnf(server, BOB, 'DeleteFlow', { Name: 'hello' }), 'AccessDenied');
    expectCode(await fnf(server, BOB, 'CreateFlow', { Name: 'hello', Definition: HELLO, Description: 'b', Type: 'FDL' }), 'FlowAlreadyExists');

    // the shared template: readable and runnable by every account, its executions private
    expectOk(await oos(server, BOB, 'GetTemplate', { TemplateName: 'SharedNap' }));
    expectCode(await oos(server, BOB, 'UpdateTemplate', { TemplateName: 'SharedNap', Content: SLEEPY }), 'User.NoPermission');
    expectCode(await oos(server, BOB, 'DeleteTemplate', { TemplateName: 'SharedNap' }), 'User.NoPermission');
    const bobs = expectOk(await oos(server, BOB, 'StartExecution', { TemplateName: 'SharedNap' }))['Execution'] as { ExecutionId: string };
    expectCode(await oos(server, ALICE, 'CancelExecution', { ExecutionId: bobs.ExecutionId }), 'User.NoPermission');
    const own = (expectOk(await oos(server, BOB, 'ListExecutions'))['Executions'] as { ExecutionId: string }[]).map((e) => e.ExecutionId);
    expect(own).toEqual([bobs.ExecutionId]);
  });

  it('names are one namespace per resource kind: a new name of another account is free to take, and private', async () => {
    expectOk(await fnf(server, BOB, 'CreateFlow', { Name: 'bobflow', Definition: HELLO.replace('Name: hello', 'Name: bobflow'), Description: 'b', Type: 'FDL', ExecutionMode: 'Express' }));
    expectCode(await fnf(server, ALICE, 'DescribeFlow', { Name: 'bobflow' }), 'AccessDenied');
    expectCode(await fnf(server, ALICE, 'DescribeFlow', { Name: 'nobody' }), 'FlowNotExists');
    expectCode(await oos(server, ALICE, 'GetTemplate', { TemplateName: 'Nobody' }), 'EntityNotExists.Template');
  });
});

describe('local functions are reachable only when the operator configured them', () => {
  let remove: () => Promise<void>;
  let dir = '';

  beforeAll(async () => {
    const tmp = await tempDir();
    remove = tmp.remove;
    dir = tmp.dir;
    await writeFile(join(dir, 'callsGreet.yaml'), CALLS_GREET);
  });
  afterAll(async () => remove());

  const post = async (url: string, action: string, body: Record<string, unknown>): Promise<Record<string, unknown>> => {
    const res = await fetch(`${url}/${action}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return (await res.json()) as Record<string, unknown>;
  };

  it('without a functions directory FC:InvokeFunction fails with FC.FunctionsDisabled naming the option', async () => {
    const server = await startServer({ port: 0, host: '127.0.0.1', flowsDir: dir, logger: silent });
    try {
      const r = await post(server.url, 'StartSyncExecution', { FlowName: 'callsGreet' });
      expect(r['Status'], JSON.stringify(r)).toBe('Failed');
      expect(r['ErrorCode']).toBe('FC.FunctionsDisabled');
      expect(String(r['ErrorMessage'])).toContain('--functions');
    } finally {
      await server.close();
    }
  });

  it('with --functions (functionsDir) the function runs', async () => {
    const server = await startServer({ port: 0, host: '127.0.0.1', flowsDir: dir, functionsDir: join('flows', 'functions'), logger: silent });
    try {
      const r = await post(server.url, 'StartSyncExecution', { FlowName: 'callsGreet' });
      expect(r['Status'], JSON.stringify(r)).toBe('Succeeded');
    } finally {
      await server.close();
    }
  });
});
