/**
 * ACS3-HMAC-SHA256: round trips with `signAcs3Request` and with the REAL Darabonba client
 * (`@alicloud/openapi-client`, its default V3 signing), then every tampering and refusal.
 */
import { createHash } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { acs3CanonicalRequest, formatTimestamp, parseAcs3Authorization, signAcs3Request } from '../../src/auth/index.js';
import type { Acs3SignInput, SignedRequest } from '../../src/auth/index.js';
import { ALICE, BOB, T0, TRICKY_VALUES, callDarabonba, fixture, requireCjs, startCaptureServer, thrown, toSignedRequest } from './helpers.js';
import type { CaptureServer } from './helpers.js';

const MIN = 60_000;
let nonceSeq = 0;

interface Acs3Options {
  key?: { AccessKeyId: string; AccessKeySecret: string };
  method?: 'GET' | 'POST';
  query?: Record<string, string>;
  form?: Record<string, string>;
  time?: number;
  headers?: Record<string, string>;
  nonce?: string;
}

/** A request signed with signAcs3Request, as the HTTP layer would receive it. */
function acs3(options: Acs3Options = {}): { request: SignedRequest; input: Acs3SignInput } {
  const key = options.key ?? ALICE;
  const method = options.method ?? 'POST';
  const body = options.form ? new URLSearchParams(options.form).toString() : '';
  const headers: Record<string, string> = {
    host: '127.0.0.1:8080',
    'x-acs-action': 'StartSyncExecution',
    'x-acs-version': '2019-03-15',
    'x-acs-date': formatTimestamp(options.time ?? T0),
    'x-acs-signature-nonce': options.nonce ?? `acs3-nonce-${++nonceSeq}`,
    ...(options.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
    ...options.headers,
  };
  const input: Acs3SignInput = { method, path: '/', query: options.query ?? {}, headers, body, accessKeyId: key.AccessKeyId, secret: key.AccessKeySecret };
  const signedReq = signAcs3Request(input);
  const request: SignedRequest = {
    method,
    path: '/',
    query: options.query ?? {},
    form: options.form,
    headers: { ...signedReq.headers, 'user-agent': 'test', 'content-length': String(Buffer.byteLength(body)) },
    rawBody: Buffer.from(body),
  };
  return { request, input };
}

describe('ACS3 round trip with signAcs3Request', () => {
  it('POST with a form body and GET with a query verify, with Unicode and reserved characters', () => {
    const f = fixture();
    const post = acs3({ form: { FlowName: 'my_flow', ...TRICKY_VALUES } });
    expect(f.verify(post.request)).toEqual({ accountId: ALICE.AccountId, accessKeyId: ALICE.AccessKeyId, scheme: 'ACS3-HMAC-SHA256' });
    const get = acs3({ method: 'GET', query: { FlowName: 'my_flow', ...TRICKY_VALUES }, key: BOB });
    expect(f.verify(get.request).accountId).toBe(BOB.AccountId);
  });

  it('the Authorization header has the documented shape and signs host, content-type and every x-acs-* header', () => {
    const { request } = acs3({ form: { FlowName: 'f' } });
    const auth = parseAcs3Authorization(String(request.headers['authorization']));
    expect(auth?.algorithm).toBe('ACS3-HMAC-SHA256');
    expect(auth?.credential).toBe(ALICE.AccessKeyId);
    expect(auth?.signedHeaders).toEqual(['content-type', 'host', 'x-acs-action', 'x-acs-content-sha256', 'x-acs-date', 'x-acs-signature-nonce', 'x-acs-version']);
    expect(auth?.signature).toMatch(/^[0-9a-f]{64}$/);
  });

  it("produces the same Authorization as the Darabonba SDK's getAuthorization for the same request", () => {
    const util = requireCjs('@alicloud/openapi-util') as {
      default: { getAuthorization(request: unknown, algorithm: string, payload: string, ak: string, secret: string): string };
    };
    const { input, request } = acs3({ method: 'GET', query: { FlowName: 'my_flow', Reserved: TRICKY_VALUES.Reserved, Accents: TRICKY_VALUES.Accents } });
    const headers = Object.fromEntries(Object.entries(input.headers).map(([k, v]) => [k, v]));
    headers['x-acs-content-sha256'] = String(request.headers['x-acs-content-sha256']);
    const sdk = util.default.getAuthorization({ pathname: '/', method: 'GET', query: input.query, headers }, 'ACS3-HMAC-SHA256', headers['x-acs-content-sha256'], ALICE.AccessKeyId, ALICE.AccessKeySecret);
    expect(request.headers['authorization']).toBe(sdk);
  });

  it('header names in any case and values with surrounding spaces canonicalize alike', () => {
    const f = fixture();
    const { request } = acs3({ form: { FlowName: 'f' } });
    const upper: Record<string, string | string[] | undefined> = {};
    for (const [k, v] of Object.entries(request.headers)) upper[k.toUpperCase()] = typeof v === 'string' ? `  ${v} ` : v;
    expect(f.verify({ ...request, headers: upper }).accessKeyId).toBe(ALICE.AccessKeyId);
  });
});

describe('requests signed by the real Darabonba client (ACS3-HMAC-SHA256, its default)', () => {
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

  it('POST with form-data business parameters verifies', async () => {
    const f = fixture();
    const c = await callDarabonba(server, { key: ALICE, signatureAlgorithm: undefined, method: 'POST', body: { FlowName: 'my_flow', ...TRICKY_VALUES } });
    expect(String(c.headers['authorization'])).toMatch(/^ACS3-HMAC-SHA256 Credential=LTAIalice0001,SignedHeaders=[a-z0-9;-]+,Signature=[0-9a-f]{64}$/);
    expect(c.headers['x-acs-date']).toBe('2026-03-04T05:06:07Z');
    const request = toSignedRequest(c);
    expect(request.form?.['Reserved']).toBe(TRICKY_VALUES.Reserved);
    expect(f.verify(request)).toEqual({ accountId: ALICE.AccountId, accessKeyId: ALICE.AccessKeyId, scheme: 'ACS3-HMAC-SHA256' });
    // Replaying the captured request is refused.
    expect(thrown(() => f.verify(request)).code).toBe('SignatureNonceUsed');
  });

  it('GET with query parameters verifies; a changed query value does not', async () => {
    const f = fixture();
    const c = await callDarabonba(server, { key: BOB, signatureAlgorithm: undefined, method: 'GET', query: { FlowName: 'my_flow', ...TRICKY_VALUES } });
    const request = toSignedRequest(c);
    expect(request.query['Accents']).toBe(TRICKY_VALUES.Accents);
    expect(thrown(() => f.verify({ ...request, query: { ...request.query, FlowName: 'other' } })).code).toBe('SignatureNotMatch');
    expect(f.verify(request).accountId).toBe(BOB.AccountId);
  });
});

describe('ACS3 refusals', () => {
  it('a signed header changed (x-acs-action) → SignatureNotMatch', () => {
    const f = fixture();
    const { request } = acs3({ form: { FlowName: 'f' } });
    expect(thrown(() => f.verify({ ...request, headers: { ...request.headers, 'x-acs-action': 'DeleteFlow' } })).code).toBe('SignatureNotMatch');
  });

  it('the body changed → SignatureNotMatch (hash mismatch); body and hash header changed → SignatureNotMatch (signature)', () => {
    const f = fixture();
    const { request } = acs3({ form: { FlowName: 'f' } });
    const body = Buffer.from('FlowName=g');
    const err = thrown(() => f.verify({ ...request, form: { FlowName: 'g' }, rawBody: body }));
    expect(err.code).toBe('SignatureNotMatch');
    expect(err.message).toContain('x-acs-content-sha256');
    const rehashed = { ...request.headers, 'x-acs-content-sha256': createHash('sha256').update(body).digest('hex') };
    const err2 = thrown(() => f.verify({ ...request, form: { FlowName: 'g' }, rawBody: body, headers: rehashed }));
    expect(err2.code).toBe('SignatureNotMatch');
    expect(err2.message).not.toContain('x-acs-content-sha256');
    expect(f.verify(request).accessKeyId).toBe(ALICE.AccessKeyId);
  });

  it('another method or path than signed → SignatureNotMatch', () => {
    const f = fixture();
    const { request } = acs3({ method: 'GET', query: { FlowName: 'f' } });
    expect(thrown(() => f.verify({ ...request, method: 'POST' })).code).toBe('SignatureNotMatch');
    expect(thrown(() => f.verify({ ...request, path: '/StartSyncExecution' })).code).toBe('SignatureNotMatch');
    expect(f.verify({ ...request, path: '/?ignored=query' }).accessKeyId).toBe(ALICE.AccessKeyId);
  });

  it('wrong secret → SignatureNotMatch; unknown Credential → InvalidAccessKeyID', () => {
    const f = fixture();
    expect(thrown(() => f.verify(acs3({ key: { AccessKeyId: ALICE.AccessKeyId, AccessKeySecret: 'wrong' } }).request)).code).toBe('SignatureNotMatch');
    const err = thrown(() => f.verify(acs3({ key: { AccessKeyId: 'LTAIghost', AccessKeySecret: 'x' } }).request));
    expect(err.code).toBe('InvalidAccessKeyID');
    expect(err.message).toContain('LTAIghost');
  });

  it.each([
    ['behind', -16 * MIN],
    ['ahead', 16 * MIN],
  ])('x-acs-date 16 minutes %s → RequestTimeTooSkewed', (_label, offset) => {
    const f = fixture();
    expect(thrown(() => f.verify(acs3({ time: T0 + offset }).request)).code).toBe('RequestTimeTooSkewed');
  });

  it('a reused x-acs-signature-nonce → SignatureNonceUsed (shared with V2 nonces of the same key)', () => {
    const f = fixture();
    expect(f.verify(acs3({ nonce: 'same' }).request).accessKeyId).toBe(ALICE.AccessKeyId);
    expect(thrown(() => f.verify(acs3({ nonce: 'same' }).request)).code).toBe('SignatureNonceUsed');
    expect(f.verify(acs3({ nonce: 'same', key: BOB }).request).accessKeyId).toBe(BOB.AccessKeyId);
  });

  it.each(['x-acs-date', 'x-acs-signature-nonce', 'x-acs-content-sha256'])('missing %s → MissingRequiredHeader, naming it', (name) => {
    const f = fixture();
    const { request } = acs3();
    const headers = { ...request.headers };
    delete headers[name];
    const err = thrown(() => f.verify({ ...request, headers }));
    expect(err.code).toBe('MissingRequiredHeader');
    expect(err.details?.['args']).toEqual([name]);
  });

  it('an x-acs-* header (or host) present but not signed → SignatureNotMatch, naming it', () => {
    const f = fixture();
    const { request } = acs3();
    const err = thrown(() => f.verify({ ...request, headers: { ...request.headers, 'x-acs-extra': 'sneaked-in' } }));
    expect(err.code).toBe('SignatureNotMatch');
    expect(err.message).toContain('x-acs-extra');
    const auth = String(request.headers['authorization']).replace('SignedHeaders=host;', 'SignedHeaders=');
    const err2 = thrown(() => f.verify({ ...request, headers: { ...request.headers, authorization: auth } }));
    expect(err2.code).toBe('SignatureNotMatch');
    expect(err2.message).toContain('"host"');
  });

  it('SignedHeaders naming a header that is absent → MissingRequiredHeader', () => {
    const f = fixture();
    const { request } = acs3();
    const auth = String(request.headers['authorization']).replace('SignedHeaders=', 'SignedHeaders=x-custom;');
    const err = thrown(() => f.verify({ ...request, headers: { ...request.headers, authorization: auth } }));
    expect(err.code).toBe('MissingRequiredHeader');
    expect(err.details?.['args']).toEqual(['x-custom']);
  });

  it.each([
    ['ACS3-HMAC-SM3 Credential=LTAIalice0001,SignedHeaders=host,Signature=abc', 'not supported'],
    ['ACS3-RSA-SHA256 Credential=LTAIalice0001,SignedHeaders=host,Signature=abc', 'not supported'],
    ['ACS3-HMAC-SHA256 Credential=LTAIalice0001', 'malformed'],
    ['ACS3-HMAC-SHA256 garbage', 'malformed'],
    ['ACS3-HMAC-SHA256 Credential=,SignedHeaders=host,Signature=abc', 'malformed'],
  ])('Authorization %j → InvalidArgument', (authorization, words) => {
    const f = fixture();
    const { request } = acs3();
    const err = thrown(() => f.verify({ ...request, headers: { ...request.headers, authorization } }));
    expect(err.code).toBe('InvalidArgument');
    expect(err.message).toContain(words);
  });

  it('an unsigned payload or an STS token → InvalidArgument', () => {
    const f = fixture();
    const { request } = acs3();
    expect(thrown(() => f.verify({ ...request, headers: { ...request.headers, 'x-acs-content-sha256': 'UNSIGNED-PAYLOAD' } })).code).toBe('InvalidArgument');
    const sts = acs3({ headers: { 'x-acs-security-token': 'token', 'x-acs-accesskey-id': ALICE.AccessKeyId } });
    expect(thrown(() => f.verify(sts.request)).code).toBe('InvalidArgument');
  });

  it('a form body without rawBody is a wiring bug: a plain Error (500), never a silent pass', () => {
    const f = fixture();
    const { request } = acs3({ form: { FlowName: 'f' } });
    const { rawBody: _omit, ...withoutBody } = request;
    expect(() => f.verify(withoutBody)).toThrow(/rawBody is required/);
  });

  it('a non-ACS3 Authorization header falls back to V2 (and needs its parameters)', () => {
    const f = fixture();
    const err = thrown(() => f.verify({ method: 'GET', path: '/', query: {}, form: undefined, headers: { authorization: 'Bearer abc' } }));
    expect(err.code).toBe('MissingRequiredParams');
  });

  it('no refusal message holds a secret', () => {
    const f = fixture();
    const errors = [
      thrown(() => f.verify(acs3({ key: { AccessKeyId: ALICE.AccessKeyId, AccessKeySecret: 'wrong' } }).request)),
      thrown(() => f.verify(acs3({ time: T0 + 20 * MIN }).request)),
      thrown(() => f.verify({ ...acs3().request, method: 'PUT' })),
    ];
    for (const err of errors) {
      for (const text of [err.message, JSON.stringify(err.details), String(err)]) {
        expect(text).not.toContain(ALICE.AccessKeySecret);
      }
    }
  });
});

describe('acs3CanonicalRequest', () => {
  it('has the six documented lines', () => {
    const canonical = acs3CanonicalRequest({
      method: 'post',
      path: '/a+b*c%7E',
      query: { b: '2 3', a: '*' },
      headers: { Host: 'h', 'X-Acs-Date': ' 2026-01-01T00:00:00Z ', 'x-acs-multi': ['b', ' a'] },
      signedHeaders: ['x-acs-multi', 'HOST', 'x-acs-date'],
      hashedPayload: 'e3b0',
    });
    expect(canonical).toBe(['POST', '/a%20b%2Ac~', 'a=%2A&b=2%203', 'host:h\nx-acs-date:2026-01-01T00:00:00Z\nx-acs-multi:a,b\n', 'host;x-acs-date;x-acs-multi', 'e3b0'].join('\n'));
  });
});
