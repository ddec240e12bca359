import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import request from 'supertest';
import { DEFAULT_BODY_LIMIT_BYTES } from '../../src/api/body.js';
import { InMemoryFlowStore } from '../../src/fnf/store.js';
import { call, HELLO, makeApi, rpc, UUID, VERSION } from './helpers.js';
import type { TestApi } from './helpers.js';

let api: TestApi;
beforeEach(async () => {
  api = await makeApi({ flows: [HELLO] });
});
afterEach(async () => {
  await api.close();
});

const START = { FlowName: 'hello', Input: '{"name":"Ada"}' };

describe('both request styles reach the same actions', () => {
  it('RPC GET with every parameter in the query', async () => {
    const res = await rpc(api.app, 'StartSyncExecution', START, 'GET');
    expect(res.status).toBe(200);
    expect(res.body.Status).toBe('Succeeded');
    expect(JSON.parse(res.body.Output)).toEqual({ greeting: 'Hello, Ada!' });
  });

  it('RPC POST with a form-encoded body (pop-core style)', async () => {
    const res = await rpc(api.app, 'StartSyncExecution', START, 'POST');
    expect(res.status).toBe(200);
    expect(res.body.Status).toBe('Succeeded');
  });

  it('RPC POST merges the query (common parameters) and the form body (business parameters)', async () => {
    const res = await request(api.app)
      .post(`/?Action=StartSyncExecution&Version=${VERSION}`)
      .type('form')
      .send(new URLSearchParams(START).toString());
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body.Output)).toEqual({ greeting: 'Hello, Ada!' });
  });

  it('RPC POST also accepts a JSON body', async () => {
    const res = await request(api.app).post('/').send({ Action: 'StartSyncExecution', Version: VERSION, ...START });
    expect(res.status).toBe(200);
    expect(res.body.Status).toBe('Succeeded');
  });

  it('path style: POST /<Action> with JSON, Version optional', async () => {
    const res = await call(api.app, 'StartSyncExecution', START);
    expect(res.status).toBe(200);
    expect(res.body.Status).toBe('Succeeded');
    const versioned = await call(api.app, 'StartSyncExecution', { ...START, Version: VERSION });
    expect(versioned.status).toBe(200);
  });

  it('path style without a body takes parameters from the query', async () => {
    const res = await request(api.app).post('/DescribeFlow?Name=hello');
    expect(res.status).toBe(200);
    expect(res.body.Name).toBe('hello');
  });

  it('a form-encoded value keeps +, %20 and unicode intact', async () => {
    const input = JSON.stringify({ name: 'a+b c ü' });
    const res = await request(api.app)
      .post('/')
      .type('form')
      .send(`Action=StartSyncExecution&Version=${VERSION}&FlowName=hello&Input=${encodeURIComponent(input)}`);
    expect(JSON.parse(res.body.Output)).toEqual({ greeting: 'Hello, a+b c ü!' });
  });
});

describe('every response', () => {
  it('carries a RequestId (uuid) in the body and the x-acs-request-id header; success has no Code', async () => {
    const ok = await call(api.app, 'DescribeFlow', { Name: 'hello' });
    expect(ok.body.RequestId).toMatch(UUID);
    expect(ok.headers['x-acs-request-id']).toBe(ok.body.RequestId);
    expect(ok.headers['content-type']).toMatch(/^application\/json/);
    expect(ok.body).not.toHaveProperty('Code');
    const bad = await call(api.app, 'DescribeFlow', { Name: 'nope' });
    expect(bad.headers['x-acs-request-id']).toBe(bad.body.RequestId);
    expect(Object.keys(bad.body).sort()).toEqual(['Code', 'HostId', 'Message', 'RequestId']);
    expect(bad.body.RequestId).not.toBe(ok.body.RequestId);
  });

  it('GET /health answers UP with the execution counts', async () => {
    const res = await request(api.app).get('/health');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ Status: 'UP', Running: 0, Queued: 0 });
    expect(res.body.RequestId).toMatch(UUID);
  });

  it('the HostId is configurable', async () => {
    const custom = await makeApi({ app: { hostId: 'cn-hangzhou.fnf.aliyuncs.com' } });
    const res = await call(custom.app, 'DescribeFlow', { Name: 'x' });
    expect(res.body.HostId).toBe('cn-hangzhou.fnf.aliyuncs.com');
    await custom.close();
  });
});

describe('protocol errors', () => {
  it('unknown Action (RPC) and unknown path → 400 ActionNotSupported naming it', async () => {
    const a = await rpc(api.app, 'StartSomething');
    expect(a.status).toBe(400);
    expect(a.body).toMatchObject({ Code: 'ActionNotSupported', Message: 'The requested API operation StartSomething is incorrect. Please check.' });
    const b = await call(api.app, 'Nope');
    expect(b.status).toBe(400);
    expect(b.body.Code).toBe('ActionNotSupported');
    const c = await request(api.app).get('/a/b');
    expect(c.status).toBe(400);
    expect(c.body.Code).toBe('ActionNotSupported');
  });

  it('RPC without Action → MissingRequiredParams naming Action', async () => {
    const res = await request(api.app).get(`/?Version=${VERSION}`);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ Code: 'MissingRequiredParams', Message: "The HTTP query 'Action' must be specified." });
  });

  it('RPC with a wrong or missing Version → 400 APIVersionNotSupported', async () => {
    const wrong = await request(api.app).get('/?Action=ListFlows&Version=2020-01-01');
    expect(wrong.status).toBe(400);
    expect(wrong.body).toMatchObject({ Code: 'APIVersionNotSupported', Message: 'The requested API version 2020-01-01 is not supported yet. Please check.' });
    const missing = await request(api.app).get('/?Action=ListFlows');
    expect(missing.status).toBe(400);
    expect(missing.body.Code).toBe('APIVersionNotSupported');
  });

  it('path style with a wrong Version → APIVersionNotSupported', async () => {
    const res = await call(api.app, 'ListFlows', { Version: '2015-01-01' });
    expect(res.status).toBe(400);
    expect(res.body.Code).toBe('APIVersionNotSupported');
  });

  it('a missing required parameter → MissingRequiredParams naming it', async () => {
    const res = await call(api.app, 'StartSyncExecution', { Input: '{}' });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ Code: 'MissingRequiredParams', Message: "The HTTP query 'FlowName' must be specified." });
    const rpcStyle = await rpc(api.app, 'DescribeExecution', { FlowName: 'hello' });
    expect(rpcStyle.body.Message).toContain("'ExecutionName'");
  });

  it('an empty parameter counts as missing', async () => {
    const res = await rpc(api.app, 'DescribeFlow', { Name: '' });
    expect(res.status).toBe(400);
    expect(res.body.Code).toBe('MissingRequiredParams');
  });

  it('a parameter of the wrong type → InvalidArgument naming it', async () => {
    const res = await rpc(api.app, 'ListFlows', { Limit: 'ten' });
    expect(res.status).toBe(400);
    expect(res.body.Code).toBe('InvalidArgument');
    expect(res.body.Message).toMatch(/^Parameter error\. Limit must be integer/);
    const obj = await call(api.app, 'StartSyncExecution', { FlowName: 'hello', Input: { name: 'x' } });
    expect(obj.body.Code).toBe('InvalidArgument');
    expect(obj.body.Message).toContain('Input');
  });

  it('path style with a non-JSON content type → 415 UnsupportedMediaType', async () => {
    const res = await request(api.app).post('/StartSyncExecution').set('content-type', 'text/plain').send('FlowName=hello');
    expect(res.status).toBe(415);
    expect(res.body).toMatchObject({ Code: 'UnsupportedMediaType', Message: 'The content type must be "application/json".' });
    const form = await request(api.app).post('/StartSyncExecution').type('form').send('FlowName=hello');
    expect(form.status).toBe(415);
  });

  it('RPC with a body that is neither form nor JSON → 415', async () => {
    const res = await request(api.app).post(`/?Action=ListFlows&Version=${VERSION}`).set('content-type', 'text/xml').send('<a/>');
    expect(res.status).toBe(415);
    expect(res.body.Code).toBe('UnsupportedMediaType');
  });

  it('malformed JSON → InvalidArgument; a JSON body that is not an object → InvalidArgument', async () => {
    const bad = await request(api.app).post('/StartSyncExecution').set('content-type', 'application/json').send('{"FlowName": ');
    expect(bad.status).toBe(400);
    expect(bad.body.Code).toBe('InvalidArgument');
    expect(bad.body.Message).toContain('not valid JSON');
    const arr = await request(api.app).post('/StartSyncExecution').set('content-type', 'application/json').send('[1]');
    expect(arr.status).toBe(400);
    expect(arr.body.Message).toContain('must be a JSON object');
  });
});

describe('body limit', () => {
  it(`a body over ${DEFAULT_BODY_LIMIT_BYTES} bytes → 400 EntityTooLarge (the seed's status) from its Content-Length`, async () => {
    const big = JSON.stringify({ FlowName: 'hello', Input: JSON.stringify({ pad: 'x'.repeat(DEFAULT_BODY_LIMIT_BYTES) }) });
    const res = await request(api.app).post('/StartSyncExecution').set('content-type', 'application/json').send(big);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ Code: 'EntityTooLarge', Message: `The payload size exceeds maximum allowed size (${DEFAULT_BODY_LIMIT_BYTES} bytes).` });
  });

  it('the limit is configurable and a chunked body is counted as it streams', async () => {
    const small = await makeApi({ flows: [HELLO], app: { bodyLimitBytes: 1000 } });
    const server = createServer(small.app);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const { port } = server.address() as AddressInfo;
    try {
      const answer = await new Promise<{ status: number; body: { Code: string } }>((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/StartSyncExecution', headers: { 'content-type': 'application/json' } }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as { Code: string } }));
        });
        req.on('error', reject);
        // no Content-Length: chunked; 3 chunks of 600 bytes pass the 1000-byte limit on the second
        req.write(`{"FlowName":"hello","Input":"${'a'.repeat(600)}`);
        req.write('b'.repeat(600));
        req.end(`${'c'.repeat(600)}"}`);
      });
      expect(answer.status).toBe(400);
      expect(answer.body.Code).toBe('EntityTooLarge');
      // a body under the limit still works on the same app
      const ok = await call(small.app, 'StartSyncExecution', { FlowName: 'hello', Input: '{"name":"z"}' });
      expect(ok.body.Status).toBe('Succeeded');
    } finally {
      await new Promise((r) => server.close(r));
      await small.close();
    }
  });
});

describe('internal errors', () => {
  it('an unexpected error → 500 InternalServerError without a stack trace', async () => {
    // a store that breaks (a real adapter could lose its database connection)
    class BrokenStore extends InMemoryFlowStore {
      override async get(): Promise<undefined> {
        throw new TypeError('secret internals at /src/x.ts:1');
      }
    }
    const broken = await makeApi({ service: { store: new BrokenStore() } });
    const res = await call(broken.app, 'DescribeFlow', { Name: 'hello' });
    expect(res.status).toBe(500);
    expect(res.body).toMatchObject({ Code: 'InternalServerError', Message: 'An internal error has occurred. Please retry.' });
    expect(JSON.stringify(res.body)).not.toContain('secret');
    expect(JSON.stringify(res.body)).not.toContain('.ts:');
    await broken.close();
  });
});
