/**
 * Every code of the error catalog, produced over HTTP at least once, answers with the catalog's
 * status and the error envelope. The table below is keyed by code: a new catalog code fails to
 * compile until it gets a case here.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import request from 'supertest';
import type { Response } from 'supertest';
import { API_ERRORS, apiError, formatTemplate, isApiErrorCode, renderError } from '../../src/api/errors.js';
import type { ApiErrorCode, OosApiErrorCode } from '../../src/api/errors.js';
import { FlowrunError } from '../../src/shared/errors.js';
import { BLOCKER, call, HELLO, makeApi, rpc } from './helpers.js';
import type { TestApi } from './helpers.js';

let api: TestApi;
beforeAll(async () => {
  api = await makeApi({
    flows: [HELLO, BLOCKER],
    service: { maxConcurrentExecutions: 1, maxQueuedExecutions: 0 },
    app: {
      // stands in for request signing (a later issue): refuses with the code named in a header
      authenticate: ({ headers }) => {
        const code = headers['x-test-refuse'];
        if (typeof code === 'string' && isApiErrorCode(code)) throw apiError(code, { args: ['a', 'b'] });
      },
    },
  });
  await api.service.createFlow({ Name: 'standard', Definition: HELLO.replace('Name: hello', 'Name: standard'), Description: 'd', Type: 'FDL', ExecutionMode: 'Standard' });
});
afterAll(async () => {
  await api.close();
});

const refusedBy = (code: ApiErrorCode) => (): Promise<Response> => rpc(api.app, 'ListFlows').set('x-test-refuse', code);

// The OOS codes (2019-06-01) are produced over HTTP in test/api/oos-errors.test.ts (its own exhaustive table).
const CASES: { readonly [C in Exclude<ApiErrorCode, OosApiErrorCode>]: () => Promise<Response> } = {
  EntityTooLarge: () => call(api.app, 'StartSyncExecution', { FlowName: 'hello', Input: JSON.stringify({ a: 'x'.repeat(70_000) }) }),
  ExecutionAlreadyExists: refusedBy('ExecutionAlreadyExists'),
  InvalidArgument: () => call(api.app, 'StartSyncExecution', { FlowName: 'hello', Input: '[]' }),
  MissingRequiredHeader: refusedBy('MissingRequiredHeader'),
  MissingRequiredParams: () => call(api.app, 'DescribeFlow'),
  ActionNotSupported: () => rpc(api.app, 'DoSomething'),
  APIVersionNotSupported: () => request(api.app).get('/?Action=ListFlows&Version=1999-01-01'),
  InvalidAccessKeyID: refusedBy('InvalidAccessKeyID'),
  RequestTimeTooSkewed: refusedBy('RequestTimeTooSkewed'),
  SignatureNotMatch: refusedBy('SignatureNotMatch'),
  AccessDenied: refusedBy('AccessDenied'),
  FlowNotExists: () => call(api.app, 'DescribeFlow', { Name: 'missing' }),
  UnsupportedMediaType: () => request(api.app).post('/ListFlows').set('content-type', 'text/csv').send('a,b'),
  ResourceThrottled: async () => {
    const first = call(api.app, 'StartSyncExecution', { FlowName: 'blocker' }).then((r) => r);
    await api.block.started(1);
    const throttled = await call(api.app, 'StartSyncExecution', { FlowName: 'hello' });
    api.block.open();
    expect((await first).body.Status).toBe('Succeeded');
    return throttled;
  },
  InternalServerError: async () => {
    const spy = vi.spyOn(api.service, 'listFlows').mockRejectedValueOnce(new RangeError('boom'));
    try {
      return await call(api.app, 'ListFlows');
    } finally {
      spy.mockRestore();
    }
  },
  ExecutionNotExists: () => call(api.app, 'DescribeExecution', { FlowName: 'hello', ExecutionName: 'x:y' }),
  FlowAlreadyExists: () => call(api.app, 'CreateFlow', { Name: 'hello', Definition: HELLO, Description: 'd', Type: 'FDL' }),
  // produced by real signed requests in test/api/auth.test.ts
  SignatureNonceUsed: refusedBy('SignatureNonceUsed'),
};

describe('every catalog code over HTTP', () => {
  it.each(Object.keys(CASES) as (keyof typeof CASES)[])('%s → its catalog status and the error envelope', async (code) => {
    const res = await CASES[code]();
    expect(res.status).toBe(API_ERRORS[code].status);
    expect(res.body.Code).toBe(code);
    expect(Object.keys(res.body).sort()).toEqual(['Code', 'HostId', 'Message', 'RequestId']);
    expect(res.headers['x-acs-request-id']).toBe(res.body.RequestId);
    expect(typeof res.body.Message).toBe('string');
    expect(res.body.Message.length).toBeGreaterThan(0);
    expect(res.body.Message).not.toContain('%s');
  });

  it('the Standard-flow refusal keeps its own message', async () => {
    const res = await call(api.app, 'StartSyncExecution', { FlowName: 'standard' });
    expect(res.status).toBe(API_ERRORS.ActionNotSupported.status);
    expect(res.body.Message).toBe('Standard execution is not supported');
  });
});

describe('rendering', () => {
  it('fills %s in order and appends a reason', () => {
    expect(formatTemplate('Execution %s for flow %s already exists.', ['e', 'f'])).toBe('Execution e for flow f already exists.');
    expect(renderError(apiError('InvalidArgument', { reason: 'Limit is bad.' }))).toEqual({
      status: 400,
      code: 'InvalidArgument',
      message: 'Parameter error. Limit is bad.',
      unexpected: false,
    });
  });

  it('a FlowrunError whose code is not in the catalog is an internal error', () => {
    expect(renderError(new FlowrunError('FnF.Timeout', 'x'))).toMatchObject({ status: 500, code: 'InternalServerError', unexpected: true });
    expect(renderError('a string')).toMatchObject({ status: 500, unexpected: true });
  });
});
