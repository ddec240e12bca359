/**
 * Every way an RPC V2 request is refused, with the code, the HTTP status the HTTP layer gives it,
 * and no secret in any message. Requests are signed with `signRpcRequest` (proven equal to
 * pop-core and Darabonba in rpc-v2.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { AUTH_ERRORS, RPC_REQUIRED_PARAMS, constantTimeEqual, formatTimestamp, parseTimestamp, signRpcRequest, verifyRequest } from '../../src/auth/index.js';
import type { SignedRequest, VerifyOptions } from '../../src/auth/index.js';
import { API_ERRORS, isApiErrorCode, renderError } from '../../src/api/errors.js';
import type { FlowrunError } from '../../src/shared/errors.js';
import { ALICE, BOB, T0, fixture, thrown } from './helpers.js';

const MIN = 60_000;
let nonceSeq = 0;

interface SignOptions {
  key?: { AccessKeyId: string; AccessKeySecret: string };
  /** Method used for signing (default: the method sent). */
  signMethod?: string;
  /** Method the request is sent with (default POST: form body; GET: query). */
  method?: 'GET' | 'POST';
  time?: number;
  extra?: Record<string, string>;
  nonce?: string;
}

function signed(options: SignOptions = {}): { request: SignedRequest; params: Record<string, string> } {
  const key = options.key ?? ALICE;
  const method = options.method ?? 'POST';
  const params: Record<string, string> = {
    Action: 'StartSyncExecution',
    Version: '2019-03-15',
    Format: 'JSON',
    AccessKeyId: key.AccessKeyId,
    SignatureMethod: 'HMAC-SHA1',
    SignatureVersion: '1.0',
    SignatureNonce: options.nonce ?? `nonce-${++nonceSeq}`,
    Timestamp: formatTimestamp(options.time ?? T0),
    FlowName: 'my_flow',
    Input: '{"a":"é * ~ +/"}',
    ...options.extra,
  };
  params['Signature'] = signRpcRequest(params, options.signMethod ?? method, key.AccessKeySecret);
  const request: SignedRequest =
    method === 'POST' ? { method, path: '/', query: {}, form: { ...params }, headers: {} } : { method, path: '/', query: { ...params }, form: undefined, headers: {} };
  return { request, params };
}

/** A request built from exactly these parameters (already signed or deliberately broken). */
function post(params: Record<string, string | string[]>): SignedRequest {
  return { method: 'POST', path: '/', query: {}, form: params, headers: {} };
}

const SECRETS = [ALICE.AccessKeySecret, BOB.AccessKeySecret];
const seen: FlowrunError[] = [];

function refused(fn: () => unknown, code: string): FlowrunError {
  const err = thrown(fn);
  seen.push(err);
  expect(err.code).toBe(code);
  return err;
}

describe('RPC V2: accepted requests', () => {
  it('a correctly signed POST and GET pass and name the account', () => {
    const f = fixture();
    expect(f.verify(signed().request)).toEqual({ accountId: ALICE.AccountId, accessKeyId: ALICE.AccessKeyId, scheme: 'RPC-V2' });
    expect(f.verify(signed({ method: 'GET', key: BOB }).request).accountId).toBe(BOB.AccountId);
  });

  it('a Timestamp with milliseconds is accepted; exactly ±15 minutes is still inside the window', () => {
    const f = fixture();
    const { request, params } = signed({ extra: {} });
    expect(f.verify(request).accessKeyId).toBe(ALICE.AccessKeyId);
    const withMillis: Record<string, string> = { ...params, Timestamp: '2026-03-04T05:06:07.123Z', SignatureNonce: 'millis' };
    withMillis['Signature'] = signRpcRequest(withMillis, 'POST', ALICE.AccessKeySecret);
    expect(f.verify(post(withMillis)).accessKeyId).toBe(ALICE.AccessKeyId);
    expect(f.verify(signed({ time: T0 - 15 * MIN }).request).accessKeyId).toBe(ALICE.AccessKeyId);
    expect(f.verify(signed({ time: T0 + 15 * MIN }).request).accessKeyId).toBe(ALICE.AccessKeyId);
  });

  it("a Signature whose '+' arrived as a space (unencoded in a query) still matches", () => {
    const f = fixture();
    // Find a nonce whose signature contains '+'.
    for (let i = 0; i < 200; i++) {
      const { params } = signed({ method: 'GET', nonce: `plus-${i}` });
      const sig = params['Signature'] as string;
      if (!sig.includes('+')) continue;
      const request: SignedRequest = { method: 'GET', path: '/', query: { ...params, Signature: sig.replace(/\+/g, ' ') }, form: undefined, headers: {} };
      expect(f.verify(request).accessKeyId).toBe(ALICE.AccessKeyId);
      return;
    }
    throw new Error('no signature with + found');
  });

  it('a custom maxSkewMs narrows the window', () => {
    const f = fixture();
    const narrow = { ...f.options, maxSkewMs: MIN };
    const err = thrown(() => verifyWith(narrow, signed({ time: T0 - 2 * MIN }).request));
    expect(err.code).toBe('RequestTimeTooSkewed');
  });
});

function verifyWith(options: VerifyOptions, request: SignedRequest): unknown {
  return verifyRequest(request, options);
}

describe('RPC V2: refused requests', () => {
  it('unknown AccessKeyId → InvalidAccessKeyID (403), naming the id', () => {
    const f = fixture();
    const err = refused(() => f.verify(signed({ key: { AccessKeyId: 'LTAInobody', AccessKeySecret: 'x' } }).request), 'InvalidAccessKeyID');
    expect(err.message).toContain('LTAInobody');
    expect(renderError(err)).toMatchObject({ status: 403, code: 'InvalidAccessKeyID', message: 'The AccessKey ID LTAInobody is invalid.' });
  });

  it('a parameter changed after signing → SignatureNotMatch (403)', () => {
    const f = fixture();
    const { params } = signed();
    refused(() => f.verify(post({ ...params, FlowName: 'other_flow' })), 'SignatureNotMatch');
    refused(() => f.verify(post({ ...params, Input: '{"a":"é * ~ +/ "}' })), 'SignatureNotMatch');
    const err = refused(() => f.verify(post({ ...params, Extra: 'added' })), 'SignatureNotMatch');
    expect(renderError(err).status).toBe(403);
  });

  it('signed with the wrong secret → SignatureNotMatch', () => {
    const f = fixture();
    refused(() => f.verify(signed({ key: { AccessKeyId: ALICE.AccessKeyId, AccessKeySecret: BOB.AccessKeySecret } }).request), 'SignatureNotMatch');
  });

  it('signed for GET, sent as POST (and the reverse) → SignatureNotMatch', () => {
    const f = fixture();
    refused(() => f.verify(signed({ method: 'POST', signMethod: 'GET' }).request), 'SignatureNotMatch');
    refused(() => f.verify(signed({ method: 'GET', signMethod: 'POST' }).request), 'SignatureNotMatch');
  });

  it('SignatureNotMatch carries the server string-to-sign (for debugging clients), never the expected signature', () => {
    const f = fixture();
    const { params } = signed();
    const tampered = { ...params, FlowName: 'x' };
    const err = refused(() => f.verify(post(tampered)), 'SignatureNotMatch');
    expect(err.details?.['stringToSign']).toMatch(/^POST&%2F&AccessKeyId%3DLTAIalice0001%26/);
    const expected = signRpcRequest(tampered, 'POST', ALICE.AccessKeySecret);
    expect(JSON.stringify(err.details)).not.toContain(expected);
    expect(err.message).not.toContain(expected);
  });

  it.each([
    ['16 minutes behind', -16 * MIN],
    ['16 minutes ahead', 16 * MIN],
    ['a day behind', -24 * 60 * MIN],
    ['1 s past the window ahead', 15 * MIN + 1000],
  ])('Timestamp %s → RequestTimeTooSkewed (403)', (_label, offset) => {
    const f = fixture();
    const err = refused(() => f.verify(signed({ time: T0 + offset }).request), 'RequestTimeTooSkewed');
    expect(err.message).toContain(formatTimestamp(T0 + offset));
    expect(err.message).toContain(formatTimestamp(T0));
    expect(renderError(err).status).toBe(403);
  });

  it('the window follows the injected clock: a request signed now is refused once the clock moves 15 min + 1 s', async () => {
    const f = fixture();
    const { request } = signed();
    await f.clock.advance(15 * MIN + 1000);
    refused(() => f.verify(request), 'RequestTimeTooSkewed');
    await f.clock.advance(-(30 * MIN + 2000));
    refused(() => f.verify(request), 'RequestTimeTooSkewed');
  });

  it('a nonce seen again within the window → SignatureNonceUsed (400), even resigned with another timestamp', async () => {
    const f = fixture();
    const { request } = signed({ nonce: 'n-1' });
    f.verify(request);
    const err = refused(() => f.verify(request), 'SignatureNonceUsed');
    expect(AUTH_ERRORS.SignatureNonceUsed.status).toBe(400);
    expect(err.details?.['status']).toBe(400);
    await f.clock.advance(10 * MIN);
    refused(() => f.verify(signed({ nonce: 'n-1', time: T0 + 10 * MIN }).request), 'SignatureNonceUsed');
    // Nonces are per AccessKey: Bob may use the same one.
    expect(f.verify(signed({ nonce: 'n-1', key: BOB }).request).accountId).toBe(BOB.AccountId);
  });

  it('a nonce is forgotten only when the request carrying it can no longer pass the window', async () => {
    const f = fixture();
    const { request } = signed({ nonce: 'n-2', time: T0 + 15 * MIN }); // as far ahead as allowed
    f.verify(request);
    await f.clock.advance(30 * MIN); // now exactly at Timestamp + 15 min: still valid, so still remembered
    refused(() => f.verify(request), 'SignatureNonceUsed');
    await f.clock.advance(1);
    refused(() => f.verify(request), 'RequestTimeTooSkewed');
    expect(f.nonceCache.size).toBe(0);
  });

  it('a forged request does not burn the nonce of the real one', () => {
    const f = fixture();
    const { params } = signed({ nonce: 'n-3' });
    refused(() => f.verify(post({ ...params, Signature: 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=' })), 'SignatureNotMatch');
    refused(() => f.verify(post({ ...params, Signature: 'short' })), 'SignatureNotMatch');
    expect(f.verify(post(params)).accessKeyId).toBe(ALICE.AccessKeyId);
  });

  it.each(RPC_REQUIRED_PARAMS.map((name) => [name]))('missing %s → MissingRequiredParams (400), naming it', (name) => {
    const f = fixture();
    const { params } = signed();
    const { [name]: _dropped, ...rest } = params;
    const err = refused(() => f.verify(post(rest)), 'MissingRequiredParams');
    expect(renderError(err)).toMatchObject({ status: 400, message: `The HTTP query '${name}' must be specified.` });
    refused(() => f.verify(post({ ...params, [name]: '' })), 'MissingRequiredParams');
  });

  it('an unsigned request (no parameters at all) → MissingRequiredParams AccessKeyId', () => {
    const f = fixture();
    const err = refused(() => f.verify({ method: 'GET', path: '/', query: { Action: 'ListFlows' }, form: undefined, headers: {} }), 'MissingRequiredParams');
    expect(err.details?.['args']).toEqual(['AccessKeyId']);
  });

  it.each([
    ['SignatureMethod', 'HMAC-SHA256'],
    ['SignatureMethod', 'hmac-sha1'],
    ['SignatureVersion', '2.0'],
  ])('%s=%s → InvalidArgument (400)', (name, value) => {
    const f = fixture();
    const err = refused(() => f.verify(signed({ extra: { [name]: value } }).request), 'InvalidArgument');
    expect(err.message).toContain(name);
    expect(renderError(err).status).toBe(400);
  });

  it.each(['2026-03-04 05:06:07', '2026-03-04T05:06:07', '2026-13-04T05:06:07Z', '2026-02-30T05:06:07Z', '1772600767', '2026-03-04T05:06:07+08:00'])(
    'Timestamp %j → InvalidArgument',
    (timestamp) => {
      const f = fixture();
      refused(() => f.verify(signed({ extra: { Timestamp: timestamp } }).request), 'InvalidArgument');
    },
  );

  it('a parameter given twice (in the query and the body, or repeated) → InvalidArgument', () => {
    const f = fixture();
    const { params } = signed();
    refused(() => f.verify({ method: 'POST', path: '/', query: { FlowName: 'other' }, form: params, headers: {} }), 'InvalidArgument');
    refused(() => f.verify(post({ ...params, FlowName: ['my_flow', 'other'] })), 'InvalidArgument');
    refused(() => f.verify(post({ ...params, Signature: [params['Signature'] as string, 'x'] })), 'InvalidArgument');
  });

  it('STS tokens, bearer tokens and over-long nonces → InvalidArgument', () => {
    const f = fixture();
    refused(() => f.verify(signed({ extra: { SecurityToken: 'sts-token' } }).request), 'InvalidArgument');
    refused(() => f.verify(signed({ extra: { SignatureType: 'BEARERTOKEN' } }).request), 'InvalidArgument');
    refused(() => f.verify(signed({ nonce: 'n'.repeat(129) }).request), 'InvalidArgument');
    expect(f.verify(signed({ nonce: 'n'.repeat(128) }).request).accessKeyId).toBe(ALICE.AccessKeyId);
  });

  it('a huge AccessKeyId is clipped in the message', () => {
    const f = fixture();
    const err = refused(() => f.verify(signed({ key: { AccessKeyId: 'A'.repeat(5000), AccessKeySecret: 'x' } }).request), 'InvalidAccessKeyID');
    expect(err.message.length).toBeLessThan(300);
  });
});

describe('error hygiene', () => {
  it('no error message, detail or string form holds a secret (every refusal above)', () => {
    expect(seen.length).toBeGreaterThan(30);
    for (const err of seen) {
      const texts = [err.message, String(err), JSON.stringify(err.details ?? {}), JSON.stringify(err.toInfo()), err.stack ?? ''];
      for (const text of texts) for (const secret of SECRETS) expect(text).not.toContain(secret);
    }
  });

  it("every code's status agrees with the HTTP layer's catalog where the code is catalogued", () => {
    for (const [code, spec] of Object.entries(AUTH_ERRORS)) {
      if (isApiErrorCode(code)) {
        expect(API_ERRORS[code].status, code).toBe(spec.status);
        expect(API_ERRORS[code].message, code).toBe(spec.message);
      }
    }
  });
});

describe('helpers', () => {
  it('constantTimeEqual: equal, different, different lengths, empty', () => {
    expect(constantTimeEqual('abc', 'abc')).toBe(true);
    expect(constantTimeEqual('abc', 'abd')).toBe(false);
    expect(constantTimeEqual('abc', 'abcd')).toBe(false);
    expect(constantTimeEqual('', '')).toBe(true);
    expect(constantTimeEqual('', 'a')).toBe(false);
  });

  it('parseTimestamp / formatTimestamp round trip; impossible dates are refused', () => {
    expect(parseTimestamp(formatTimestamp(T0))).toBe(T0);
    expect(parseTimestamp('2024-02-29T23:59:59Z')).toBe(Date.UTC(2024, 1, 29, 23, 59, 59));
    expect(parseTimestamp('2023-02-29T00:00:00Z')).toBeUndefined();
    expect(parseTimestamp('2024-01-01T24:00:00Z')).toBeUndefined();
    expect(parseTimestamp('2024-01-01T00:00:00.5Z')).toBe(Date.UTC(2024, 0, 1) + 500);
  });
});
