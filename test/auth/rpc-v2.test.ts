/**
 * RPC signature V2: the cloudflow.md §5.1 test vector, and requests signed by the REAL clients —
 * `@alicloud/pop-core` RPCClient (GET: everything in the query; POST: everything in a form
 * body) and the Darabonba `@alicloud/openapi-client` (common parameters + Signature in the
 * query, business parameters in the form body) — captured on a loopback server and verified.
 */
import RPCClient from '@alicloud/pop-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { AccessKey, AccessKeyStore, NonceCache, canonicalRpcQuery, percentEncode, rpcStringToSign, signRpcRequest, verifyRequest } from '../../src/auth/index.js';
import { ManualClock } from '../../src/shared/clock.js';
import { ALICE, BOB, T0, TRICKY_VALUES, callDarabonba, fixture, startCaptureServer, thrown, toSignedRequest } from './helpers.js';
import type { CaptureServer, Captured } from './helpers.js';

describe('cloudflow.md §5.1 test vector', () => {
  const params = {
    Action: 'StartSyncExecution',
    Format: 'JSON',
    Version: '2019-03-15',
    AccessKeyId: 'testid',
    SignatureMethod: 'HMAC-SHA1',
    SignatureVersion: '1.0',
    SignatureNonce: '3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf',
    Timestamp: '2024-01-01T12:00:00Z',
    FlowName: 'my_flow',
    Input: '{"a":1, "b":"x y"}',
  };

  it('builds the canonical query string of the reference', () => {
    expect(canonicalRpcQuery(params)).toBe(
      'AccessKeyId=testid&Action=StartSyncExecution&FlowName=my_flow&Format=JSON&Input=%7B%22a%22%3A1%2C%20%22b%22%3A%22x%20y%22%7D&SignatureMethod=HMAC-SHA1&SignatureNonce=3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf&SignatureVersion=1.0&Timestamp=2024-01-01T12%3A00%3A00Z&Version=2019-03-15',
    );
  });

  it('signs to the exact reference signature', () => {
    expect(signRpcRequest(params, 'POST', 'testsecret')).toBe('LkVkria8DrAX97llrG+00KRNZh8=');
  });

  it('ignores a Signature parameter when signing, and depends on the method', () => {
    expect(signRpcRequest({ ...params, Signature: 'whatever' }, 'POST', 'testsecret')).toBe('LkVkria8DrAX97llrG+00KRNZh8=');
    expect(signRpcRequest(params, 'GET', 'testsecret')).not.toBe('LkVkria8DrAX97llrG+00KRNZh8=');
    expect(rpcStringToSign(params, 'post').startsWith('POST&%2F&AccessKeyId%3Dtestid%26Action%3D')).toBe(true);
  });

  it('verifies as a received POST (form body) and as a GET (query), with the method actually received', () => {
    const clock = new ManualClock(Date.UTC(2024, 0, 1, 12, 10, 0));
    const options = { keys: new AccessKeyStore([new AccessKey('testid', 'testsecret', 'acc-1')]), clock, nonceCache: new NonceCache({ clock }) };
    const signed = { ...params, Signature: 'LkVkria8DrAX97llrG+00KRNZh8=' };
    expect(verifyRequest({ method: 'POST', path: '/', query: {}, form: signed, headers: {} }, options)).toEqual({ accountId: 'acc-1', accessKeyId: 'testid', scheme: 'RPC-V2' });
    // The same parameters received with GET are a different string-to-sign.
    const asGet = thrown(() => verifyRequest({ method: 'GET', path: '/', query: { ...signed, SignatureNonce: 'other-nonce' }, form: undefined, headers: {} }, options));
    expect(asGet.code).toBe('SignatureNotMatch');
  });
});

describe('percent-encoding (§5.1 rule 2)', () => {
  it.each([
    [' ', '%20'],
    ['+', '%2B'],
    ['*', '%2A'],
    ['~', '~'],
    ['/', '%2F'],
    ['é', '%C3%A9'],
    ["!'()", '%21%27%28%29'],
    ['AZaz09-_.', 'AZaz09-_.'],
    ['😀', '%F0%9F%98%80'],
  ])('encodes %j as %s', (raw, encoded) => {
    expect(percentEncode(raw)).toBe(encoded);
  });

  it('matches encodeURIComponent plus the SDK escapes across the BMP, also on the byte path taken for lone surrogates', () => {
    for (let c = 0; c < 0xd800; c += 7) {
      const s = String.fromCharCode(c);
      const sdk = encodeURIComponent(s).replace(/!/g, '%21').replace(/'/g, '%27').replace(/\(/g, '%28').replace(/\)/g, '%29').replace(/\*/g, '%2A');
      expect(percentEncode(s)).toBe(sdk);
      // A lone surrogate makes encodeURIComponent throw: the fallback must encode the rest alike.
      expect(percentEncode(`\ud800${s}`)).toBe(`%EF%BF%BD${sdk}`);
    }
  });

  it('does not throw on a lone surrogate', () => {
    expect(percentEncode('\ud800')).toBe('%EF%BF%BD');
    expect(percentEncode("a\udfff é*~+/!'()")).toBe('a%EF%BF%BD%20%C3%A9%2A~%2B%2F%21%27%28%29');
  });
});

describe('requests signed by the real @alicloud/pop-core RPCClient', () => {
  let server: CaptureServer;
  beforeAll(async () => {
    server = await startCaptureServer();
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(() => {
    // pop-core stamps `Timestamp` from `new Date()`: pin it (timers stay real for the HTTP round trip).
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(T0);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  async function send(params: Record<string, string>, opts: Record<string, unknown>, key = ALICE): Promise<Captured> {
    const client = new RPCClient({ endpoint: `http://${server.host}:${server.port}`, apiVersion: '2019-03-15', accessKeyId: key.AccessKeyId, accessKeySecret: key.AccessKeySecret });
    const before = server.captured.length;
    await client.request('StartSyncExecution', params, opts);
    const captured = server.captured[before];
    if (!captured) throw new Error('pop-core sent nothing');
    return captured;
  }

  it('GET (the default): every parameter and the Signature in the query', async () => {
    const f = fixture();
    const c = await send({ FlowName: 'my_flow', Input: '{"a":1}' }, {});
    expect(c.method).toBe('GET');
    expect(c.url).toMatch(/^\/\?.*&Signature=/);
    expect(c.body.length).toBe(0);
    const request = toSignedRequest(c);
    expect(request.query['Timestamp']).toBe('2026-03-04T05:06:07Z');
    expect(f.verify(request)).toEqual({ accountId: ALICE.AccountId, accessKeyId: ALICE.AccessKeyId, scheme: 'RPC-V2' });
  });

  it('POST: every parameter and the Signature in a form body, nothing in the query', async () => {
    const f = fixture();
    const c = await send({ FlowName: 'my_flow', Input: '{"a":1}' }, { method: 'POST' });
    expect(c.method).toBe('POST');
    expect(c.url).toBe('/');
    expect(c.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(c.body.toString()).toMatch(/&Signature=/);
    expect(f.verify(toSignedRequest(c)).accountId).toBe(ALICE.AccountId);
  });

  it.each(['GET', 'POST'] as const)('%s: Unicode and reserved characters in values (é * ~ space + / …) verify', async (method) => {
    const f = fixture();
    const c = await send({ FlowName: 'my_flow', ...TRICKY_VALUES }, method === 'GET' ? {} : { method });
    const request = toSignedRequest(c);
    const received = method === 'GET' ? request.query : request.form;
    expect(received?.['Reserved']).toBe(TRICKY_VALUES.Reserved);
    expect(received?.['Accents']).toBe(TRICKY_VALUES.Accents);
    expect(received?.['Empty']).toBe('');
    expect(f.verify(request).accessKeyId).toBe(ALICE.AccessKeyId);
  });

  it("a key's account is the one returned", async () => {
    const f = fixture();
    const c = await send({ FlowName: 'f' }, { method: 'POST' }, BOB);
    expect(f.verify(toSignedRequest(c))).toEqual({ accountId: BOB.AccountId, accessKeyId: BOB.AccessKeyId, scheme: 'RPC-V2' });
  });

  it("pop-core's lower-case 'post' sends a POST with every parameter in the query (no body): it verifies", async () => {
    // cloudflow.md §5.2 says this sends GET; in fact Node upper-cases the method, so the request is
    // a POST, signed as POST, with the parameters where a GET would carry them.
    const f = fixture();
    const c = await send({ FlowName: 'f' }, { method: 'post' });
    expect(c.method).toBe('POST');
    expect(c.url).toMatch(/^\/\?.*&Signature=/);
    expect(c.body.length).toBe(0);
    expect(f.verify(toSignedRequest(c)).accountId).toBe(ALICE.AccountId);
  });

  it('a GET-signed request received as POST (same parameters, form body) is refused', async () => {
    const f = fixture();
    const c = await send({ FlowName: 'f' }, {});
    const request = toSignedRequest(c);
    const asPost = { ...request, method: 'POST', query: {}, form: request.query };
    expect(thrown(() => f.verify(asPost)).code).toBe('SignatureNotMatch');
    expect(f.verify(request).accountId).toBe(ALICE.AccountId);
  });

  it('a captured request replayed is refused with SignatureNonceUsed; the next real request passes', async () => {
    const f = fixture();
    const first = await send({ FlowName: 'f' }, { method: 'POST' });
    expect(f.verify(toSignedRequest(first)).accountId).toBe(ALICE.AccountId);
    const replay = thrown(() => f.verify(toSignedRequest(first)));
    expect(replay.code).toBe('SignatureNonceUsed');
    const second = await send({ FlowName: 'f' }, { method: 'POST' });
    expect(f.verify(toSignedRequest(second)).accountId).toBe(ALICE.AccountId);
  });
});

describe('requests signed by the real Darabonba client (@alicloud/openapi-client, signatureAlgorithm v2)', () => {
  let server: CaptureServer;
  beforeAll(async () => {
    server = await startCaptureServer();
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(T0);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('POST: common parameters + Signature in the query, business parameters in the form body', async () => {
    const f = fixture();
    const c = await callDarabonba(server, { key: ALICE, signatureAlgorithm: 'v2', method: 'POST', body: { FlowName: 'my_flow', ...TRICKY_VALUES } });
    const request = toSignedRequest(c);
    expect(c.method).toBe('POST');
    expect(Object.keys(request.query)).toEqual(expect.arrayContaining(['Action', 'Signature', 'SignatureNonce', 'Timestamp', 'AccessKeyId']));
    expect(request.query['FlowName']).toBeUndefined();
    expect(request.form?.['FlowName']).toBe('my_flow');
    expect(request.form?.['Reserved']).toBe(TRICKY_VALUES.Reserved);
    // The body is Node querystring output (`*`, `!`, `'`, `(`, `)` left raw): the raw bytes are not canonical.
    expect(c.body.toString()).toContain('a*b~c');
    expect(f.verify(request)).toEqual({ accountId: ALICE.AccountId, accessKeyId: ALICE.AccessKeyId, scheme: 'RPC-V2' });
  });

  it('POST with business parameters in both places (ReportTaskSucceeded: TaskToken in the query, Output in the body)', async () => {
    const f = fixture();
    const c = await callDarabonba(server, {
      key: BOB,
      signatureAlgorithm: 'v2',
      method: 'POST',
      action: 'ReportTaskSucceeded',
      query: { TaskToken: 'tok/en+with=chars é' },
      body: { Output: '{"ok":true,"s":"* ~"}' },
    });
    const request = toSignedRequest(c);
    expect(request.query['TaskToken']).toBe('tok/en+with=chars é');
    expect(f.verify(request).accountId).toBe(BOB.AccountId);
    // Moving a business parameter between query and body does not change the signature …
    const moved = { ...request, query: { ...request.query, Output: request.form?.['Output'] as string }, form: {} };
    expect(thrown(() => f.verify(moved)).code).toBe('SignatureNonceUsed');
    // … but changing it does.
    const g = fixture();
    expect(thrown(() => g.verify({ ...request, form: { Output: '{"ok":false}' } })).code).toBe('SignatureNotMatch');
  });

  it('GET: everything in the query', async () => {
    const f = fixture();
    const c = await callDarabonba(server, { key: ALICE, signatureAlgorithm: 'v2', method: 'GET', query: { FlowName: 'my_flow', ...TRICKY_VALUES } });
    expect(c.method).toBe('GET');
    expect(f.verify(toSignedRequest(c)).accountId).toBe(ALICE.AccountId);
  });
});
