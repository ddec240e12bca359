/**
 * Request signing over HTTP (src/api/auth.ts wired by startServer): the real SDK clients
 * (pop-core RPC V2 GET/POST, Darabonba V2 and ACS3) get through; unsigned, wrongly signed,
 * skewed, replayed and ambiguous requests are refused with the catalog's codes; /health stays
 * open; the verified account is on the request; no secret reaches a response or the log.
 */
import { createRequire } from 'node:module';
import { Writable } from 'node:stream';
import { randomUUID } from 'node:crypto';
import RPCClient from '@alicloud/pop-core';
import pino from 'pino';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { createSignatureAuthenticator } from '../../src/api/auth.js';
import { API_ERRORS } from '../../src/api/errors.js';
import { startServer } from '../../src/api/server.js';
import type { RunningServer } from '../../src/api/server.js';
import { AccessKey, AccessKeyStore, AUTH_ERRORS, formatTimestamp, signAcs3Request, signRpcRequest } from '../../src/auth/index.js';
import type { OosExecutionService } from '../../src/executions/oos/index.js';
import { FlowService } from '../../src/fnf/service.js';
import { createRuntime } from '../../src/runtime.js';
import { ManualClock } from '../../src/shared/clock.js';
import { HELLO, silent, tempDir } from './helpers.js';

const requireCjs = createRequire(import.meta.url);

const ALICE = { AccessKeyId: 'LTAIalice0001', AccessKeySecret: 'alice-Secret+/=*~ é', AccountId: '1111111111111111' };
const BOB = { AccessKeyId: 'LTAIbob0002', AccessKeySecret: 'bob-secret-value-xyz', AccountId: '2222222222222222' };
const keys = (): AccessKeyStore => new AccessKeyStore([ALICE, BOB].map((k) => new AccessKey(k.AccessKeyId, k.AccessKeySecret, k.AccountId)));

/** A pino logger writing parsed lines into `lines` (and the raw text into `raw`). */
function capture(): { logger: pino.Logger; lines: Record<string, unknown>[]; raw: string[] } {
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n')) {
        if (!l.trim()) continue;
        raw.push(l);
        lines.push(JSON.parse(l) as Record<string, unknown>);
      }
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines, raw };
}

let server: RunningServer;
let clock: ManualClock;
let log: ReturnType<typeof capture>;
let removeDir: () => Promise<void>;

beforeAll(async () => {
  const tmp = await tempDir();
  removeDir = tmp.remove;
  const { writeFile } = await import('node:fs/promises');
  await writeFile(`${tmp.dir}/hello.yaml`, HELLO);
  clock = new ManualClock(Date.now());
  log = capture();
  server = await startServer({ port: 0, host: '127.0.0.1', flowsDir: tmp.dir, logger: log.logger, clock, accessKeys: keys() });
});
afterAll(async () => {
  await server.close();
  await removeDir();
});

type Key = typeof ALICE;

/** V2 common parameters + Signature, signed for `method`. */
function signV2(params: Record<string, string>, method: string, key: Key = ALICE, at = clock.now()): Record<string, string> {
  const all: Record<string, string> = {
    Format: 'JSON',
    Version: '2019-03-15',
    AccessKeyId: key.AccessKeyId,
    SignatureMethod: 'HMAC-SHA1',
    SignatureVersion: '1.0',
    SignatureNonce: randomUUID(),
    Timestamp: formatTimestamp(at),
    ...params,
  };
  return { ...all, Signature: signRpcRequest(all, method, key.AccessKeySecret) };
}

const qs = (p: Record<string, string>): string => new URLSearchParams(p).toString();

async function get(params: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${server.url}/?${qs(params)}`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function postForm(path: string, params: Record<string, string>, query = ''): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${server.url}${path}${query}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: qs(params) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

function expectError(res: { status: number; body: Record<string, unknown> }, code: keyof typeof API_ERRORS): void {
  expect(res.body['Code'], JSON.stringify(res.body)).toBe(code);
  expect(res.status).toBe(API_ERRORS[code].status);
  expect(Object.keys(res.body).sort()).toEqual(['Code', 'HostId', 'Message', 'RequestId']);
}

describe('the catalog has every code authentication raises', () => {
  it.each(Object.keys(AUTH_ERRORS) as (keyof typeof AUTH_ERRORS)[])('%s with the same status', (code) => {
    expect(API_ERRORS[code].status).toBe(AUTH_ERRORS[code].status);
  });
});

describe('SDK clients sign, flowrun verifies', () => {
  it.each(['GET', 'POST'] as const)('pop-core RPCClient with %s', async (method) => {
    const client = new RPCClient({ endpoint: server.url, apiVersion: '2019-03-15', accessKeyId: ALICE.AccessKeyId, accessKeySecret: ALICE.AccessKeySecret });
    const body = await client.request<{ Status: string; Output: string }>('StartSyncExecution', { FlowName: 'hello', Input: JSON.stringify({ name: 'p*p (core) & ~x' }) }, { method });
    expect(body.Status).toBe('Succeeded');
    expect(JSON.parse(body.Output)).toEqual({ greeting: 'Hello, p*p (core) & ~x!' });
  });

  it('pop-core with an unknown key is refused with InvalidAccessKeyID', async () => {
    const client = new RPCClient({ endpoint: server.url, apiVersion: '2019-03-15', accessKeyId: 'nobody', accessKeySecret: 'x' });
    const err = (await client.request('ListFlows', {}, { method: 'GET' }).catch((e: unknown) => e)) as { code?: string };
    expect(err.code).toBe('InvalidAccessKeyID');
  });

  it.each([
    ['v2', 'GET'],
    ['v2', 'POST'],
    [undefined, 'POST'],
    [undefined, 'GET'],
  ] as const)('Darabonba (@alicloud/openapi-client) signatureAlgorithm %s, %s', async (signatureAlgorithm, method) => {
    interface DarabonbaModule {
      default: new (config: unknown) => { callApi(params: unknown, request: unknown, runtime: unknown): Promise<{ body: Record<string, unknown> }> };
      Config: new (fields: Record<string, unknown>) => unknown;
      Params: new (fields: Record<string, unknown>) => unknown;
      OpenApiRequest: new (fields: Record<string, unknown>) => unknown;
    }
    const openapi = requireCjs('@alicloud/openapi-client') as DarabonbaModule;
    const util = requireCjs('@alicloud/tea-util') as { RuntimeOptions: new (fields: Record<string, unknown>) => unknown };
    const client = new openapi.default(
      new openapi.Config({
        accessKeyId: BOB.AccessKeyId,
        accessKeySecret: BOB.AccessKeySecret,
        endpoint: `127.0.0.1:${server.port}`,
        protocol: 'http',
        ...(signatureAlgorithm ? { signatureAlgorithm } : {}),
      }),
    );
    const params = new openapi.Params({
      action: 'StartSyncExecution',
      version: '2019-03-15',
      protocol: 'HTTP',
      pathname: '/',
      method,
      authType: 'AK',
      style: 'RPC',
      reqBodyType: 'formData',
      bodyType: 'json',
    });
    const fields = { FlowName: 'hello', Input: JSON.stringify({ name: "D!a'r(a)b*o n~a" }) };
    const req = new openapi.OpenApiRequest(method === 'GET' ? { query: fields } : { body: fields });
    const res = await client.callApi(params, req, new util.RuntimeOptions({}));
    expect(res.body['Status']).toBe('Succeeded');
    expect(JSON.parse(res.body['Output'] as string)).toEqual({ greeting: "Hello, D!a'r(a)b*o n~a!" });
  });
});

describe('refusals', () => {
  it('an unsigned request is refused (MissingRequiredParams AccessKeyId); /health stays open', async () => {
    const res = await fetch(`${server.url}/StartSyncExecution`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"FlowName":"hello"}' });
    const body = (await res.json()) as Record<string, unknown>;
    expectError({ status: res.status, body }, 'MissingRequiredParams');
    expect(body['Message']).toContain('AccessKeyId');
    const health = await fetch(`${server.url}/health`);
    expect(health.status).toBe(200);
    expect(((await health.json()) as Record<string, unknown>)['Status']).toBe('UP');
  });

  it('each missing signing parameter is named', async () => {
    for (const name of ['AccessKeyId', 'Signature', 'SignatureMethod', 'SignatureVersion', 'SignatureNonce', 'Timestamp']) {
      const params = signV2({ Action: 'ListFlows' }, 'GET');
      delete params[name];
      const res = await get(params);
      expectError(res, 'MissingRequiredParams');
      expect(res.body['Message']).toContain(name);
    }
  });

  it('a wrong secret → SignatureNotMatch, with the server string-to-sign and no secret', async () => {
    const res = await get(signV2({ Action: 'ListFlows' }, 'GET', { ...ALICE, AccessKeySecret: 'wrong' }));
    expectError(res, 'SignatureNotMatch');
    expect(res.body['Message']).toContain('GET&%2F&AccessKeyId%3DLTAIalice0001');
    expect(JSON.stringify(res.body)).not.toContain(ALICE.AccessKeySecret);
  });

  it('a parameter changed after signing → SignatureNotMatch', async () => {
    const params = signV2({ Action: 'DescribeFlow', Name: 'hello' }, 'GET');
    expectError(await get({ ...params, Name: 'other' }), 'SignatureNotMatch');
  });

  it('signed for GET, sent as POST → SignatureNotMatch', async () => {
    expectError(await postForm('/', signV2({ Action: 'ListFlows' }, 'GET')), 'SignatureNotMatch');
  });

  it('an unknown AccessKeyId → InvalidAccessKeyID (403)', async () => {
    expectError(await get(signV2({ Action: 'ListFlows' }, 'GET', { ...ALICE, AccessKeyId: 'LTAIunknown' })), 'InvalidAccessKeyID');
  });

  it('a Timestamp more than 15 minutes away, either way → RequestTimeTooSkewed (403); 14 minutes is fine', async () => {
    expectError(await get(signV2({ Action: 'ListFlows' }, 'GET', ALICE, clock.now() - 16 * 60_000)), 'RequestTimeTooSkewed');
    expectError(await get(signV2({ Action: 'ListFlows' }, 'GET', ALICE, clock.now() + 16 * 60_000)), 'RequestTimeTooSkewed');
    expect((await get(signV2({ Action: 'ListFlows' }, 'GET', ALICE, clock.now() - 14 * 60_000))).status).toBe(200);
  });

  it('a replayed request → SignatureNonceUsed (400); the same nonce from another key is fine', async () => {
    const params = signV2({ Action: 'ListFlows', SignatureNonce: 'fixed-nonce-1' }, 'GET');
    expect((await get(params)).status).toBe(200);
    expectError(await get(params), 'SignatureNonceUsed');
    expect((await get(signV2({ Action: 'ListFlows', SignatureNonce: 'fixed-nonce-1' }, 'GET', BOB))).status).toBe(200);
  });

  it('a bad SignatureMethod, SignatureVersion or Timestamp format → InvalidArgument', async () => {
    const bad = (over: Record<string, string>): Record<string, string> => {
      const p = { ...signV2({ Action: 'ListFlows' }, 'GET'), ...over };
      return p;
    };
    expectError(await get(bad({ SignatureMethod: 'HMAC-SHA256' })), 'InvalidArgument');
    expectError(await get(bad({ SignatureVersion: '2.0' })), 'InvalidArgument');
    expectError(await get(bad({ Timestamp: 'yesterday' })), 'InvalidArgument');
  });

  it('a repeated parameter, or one in both the query and the body, is refused (InvalidArgument)', async () => {
    const params = signV2({ Action: 'DescribeFlow', Name: 'hello' }, 'GET');
    const res = await fetch(`${server.url}/?${qs(params)}&Name=other`);
    expectError({ status: res.status, body: (await res.json()) as Record<string, unknown> }, 'InvalidArgument');
    const signed = signV2({ Action: 'DescribeFlow', Name: 'hello' }, 'POST');
    expectError(await postForm('/', signed, '?Name=hello'), 'InvalidArgument');
  });

  async function postQuery(path: string, params: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`${server.url}${path}?${qs(params)}`, { method: 'POST' });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  it('path style with V2: the path must be the signed Action (the path is not signed)', async () => {
    const res = await postQuery('/DeleteFlow', signV2({ Action: 'DescribeFlow', Name: 'hello' }, 'POST'));
    expectError(res, 'SignatureNotMatch');
    expect(res.body['Message']).toContain('DescribeFlow');
    const ok = await postQuery('/DescribeFlow', signV2({ Action: 'DescribeFlow', Name: 'hello' }, 'POST'));
    expect(ok.status).toBe(200);
    expect(ok.body['Name']).toBe('hello');
  });

  it('path style with V2 and no signed Action → MissingRequiredParams Action', async () => {
    const res = await postQuery('/DescribeFlow', signV2({ Name: 'hello' }, 'POST'));
    expectError(res, 'MissingRequiredParams');
    expect(res.body['Message']).toContain('Action');
  });

  it('V2: the x-acs-action / x-acs-version headers cannot stand in for signed parameters', async () => {
    const noAction = signV2({ Name: 'hello' }, 'GET');
    const r1 = await fetch(`${server.url}/?${qs(noAction)}`, { headers: { 'x-acs-action': 'DescribeFlow' } });
    expectError({ status: r1.status, body: (await r1.json()) as Record<string, unknown> }, 'MissingRequiredParams');
    const all = signV2({ Action: 'ListFlows' }, 'GET');
    delete all['Version'];
    const unsignedVersion = { ...all, Signature: signRpcRequest(Object.fromEntries(Object.entries(all).filter(([k]) => k !== 'Signature')), 'GET', ALICE.AccessKeySecret) };
    const r2 = await fetch(`${server.url}/?${qs(unsignedVersion)}`, { headers: { 'x-acs-version': '2019-03-15' } });
    const b2 = (await r2.json()) as Record<string, unknown>;
    expectError({ status: r2.status, body: b2 }, 'MissingRequiredParams');
    expect(b2['Message']).toContain('Version');
  });

  it('V2 with a JSON body: string values are signed as form parameters; other values are refused', async () => {
    const signed = signV2({ Action: 'StartSyncExecution', FlowName: 'hello', Input: '{"name":"json"}' }, 'POST');
    const res = await fetch(`${server.url}/StartSyncExecution`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(signed) });
    const body = (await res.json()) as Record<string, unknown>;
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(JSON.parse(body['Output'] as string)).toEqual({ greeting: 'Hello, json!' });

    const tampered = { ...signV2({ Action: 'StartSyncExecution', FlowName: 'hello' }, 'POST'), Input: '{"name":"unsigned"}' };
    const r2 = await fetch(`${server.url}/StartSyncExecution`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(tampered) });
    expectError({ status: r2.status, body: (await r2.json()) as Record<string, unknown> }, 'SignatureNotMatch');

    const withNumber = { ...signV2({ Action: 'ListFlows' }, 'POST'), Limit: 5 };
    const r3 = await fetch(`${server.url}/ListFlows`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(withNumber) });
    expectError({ status: r3.status, body: (await r3.json()) as Record<string, unknown> }, 'InvalidArgument');
  });

  it('ACS3, path style with a JSON body: verified; a changed body or an unsigned x-acs header is refused', async () => {
    const body = JSON.stringify({ FlowName: 'hello', Input: '{"name":"acs3"}' });
    const signed = signAcs3Request({
      method: 'POST',
      path: '/StartSyncExecution',
      headers: { host: `127.0.0.1:${server.port}`, 'content-type': 'application/json', 'x-acs-version': '2019-03-15' },
      body,
      accessKeyId: ALICE.AccessKeyId,
      secret: ALICE.AccessKeySecret,
      clock,
    });
    const ok = await request(server.app).post('/StartSyncExecution').set(signed.headers).send(body);
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(JSON.parse(ok.body.Output as string)).toEqual({ greeting: 'Hello, acs3!' });

    const again = signAcs3Request({
      method: 'POST',
      path: '/StartSyncExecution',
      headers: { host: `127.0.0.1:${server.port}`, 'content-type': 'application/json' },
      body,
      accessKeyId: ALICE.AccessKeyId,
      secret: ALICE.AccessKeySecret,
      clock,
    });
    const changed = await request(server.app).post('/StartSyncExecution').set(again.headers).send(body.replace('acs3', 'evil'));
    expect(changed.body.Code).toBe('SignatureNotMatch');
    const extra = await request(server.app).post('/StartSyncExecution').set({ ...again.headers, 'x-acs-extra': 'unsigned' }).send(body);
    expect(extra.body.Code).toBe('SignatureNotMatch');
    expect(extra.status).toBe(403);
  });
});

describe('the verified caller', () => {
  it('is on the request: the log line names the account, and no secret is ever logged', async () => {
    const res = await get(signV2({ Action: 'ListFlows' }, 'GET', BOB));
    expect(res.status).toBe(200);
    const line = log.lines.find((l) => l['msg'] === 'request' && l['requestId'] === res.body['RequestId']);
    expect(line?.['account']).toBe(BOB.AccountId);
    await get(signV2({ Action: 'ListFlows' }, 'GET', { ...BOB, AccessKeySecret: 'nope' }));
    const text = log.raw.join('\n');
    expect(text).not.toContain(ALICE.AccessKeySecret);
    expect(text).not.toContain(BOB.AccessKeySecret);
  });

  it('res.locals.caller holds {accountId, accessKeyId}; OOS approvals count the verified key, not an Approver parameter', async () => {
    const runtime = createRuntime({ clock, functionsDir: 'flows/functions' });
    const service = new FlowService({ runtime, logger: silent });
    const callers: string[] = [];
    const oos = {
      notifyExecution: (_p: unknown, caller: string) => {
        callers.push(caller);
        return Promise.resolve({});
      },
    } as unknown as OosExecutionService;
    const { authenticate } = createSignatureAuthenticator({ keys: keys(), clock });
    const app = createApp({ service, oos, logger: silent, authenticate });
    try {
      const params = signV2({ Action: 'NotifyExecution', Version: '2019-06-01', ExecutionId: 'exec-1', NotifyType: 'Approve', Approver: 'someone-else' }, 'POST', BOB);
      const res = await request(app).post('/').type('form').send(qs(params));
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(callers).toEqual([BOB.AccessKeyId]);
    } finally {
      await service.close();
      await runtime.close();
    }
  });
});
