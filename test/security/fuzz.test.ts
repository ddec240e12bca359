/**
 * Property-based fuzzing of the whole HTTP surface: at least 10,000 generated malformed requests
 * across every action of both APIs (FnF 2019-03-15, OOS 2019-06-01), in both request styles,
 * over a real socket (127.0.0.1, port 0, keep-alive). Every answer must be a 200 success or a
 * catalogued 4xx JSON error `{RequestId, Code, Message}` with the catalog's status — never a 5xx,
 * never a bare or non-JSON answer; no unhandled rejection; the server is healthy afterwards.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { ACTION_NAMES } from '../../src/api/actions.js';
import { createSignatureAuthenticator } from '../../src/api/auth.js';
import { AccessKey, AccessKeyStore, formatTimestamp, signAcs3Request, signRpcRequest } from '../../src/auth/index.js';
import { systemClock } from '../../src/shared/clock.js';
import { OOS_ACTION_NAMES, oosActions } from '../../src/api/oos-actions.js';
import { HELLO, problemWith, send, startFullStack } from './helpers.js';
import type { FullStack, RawRequest } from './helpers.js';

const FNF = '2019-03-15';
const OOS = '2019-06-01';
/** Requests sent at once by one run of a property. */
const BATCH = 10;
/** Runs of each property (× BATCH requests); the total is checked at the end. */
const SCALE = Math.max(1, Number(process.env['FLOWRUN_FUZZ_SCALE'] ?? '1') || 1); // soak: FLOWRUN_FUZZ_SCALE=10
const RUNS = { params: 420 * SCALE, bodies: 250 * SCALE, paging: 160 * SCALE, surface: 160 * SCALE, sizes: 30 * SCALE, signed: 100 * SCALE } as const;
const MIN_REQUESTS = 10_000;

interface Target {
  action: string;
  version: string;
}
const TARGETS: Target[] = [...ACTION_NAMES.map((action) => ({ action, version: FNF })), ...OOS_ACTION_NAMES.map((action) => ({ action, version: OOS }))];

/** Parameter names of the FnF actions (cloudflow.md §4.2) and of the OOS schemas. */
const FNF_PARAMS = [
  'FlowName', 'ExecutionName', 'Input', 'Qualifier', 'Name', 'Definition', 'Description', 'Type', 'RoleArn', 'ExecutionMode',
  'Limit', 'NextToken', 'ResourceGroupId', 'WaitTimeSeconds', 'Status', 'ExecutionNamePrefix', 'StartedTimeBegin', 'StartedTimeEnd',
  'MetadataOnly', 'CallbackFnFTaskToken', 'Error', 'Cause', 'TaskToken', 'Output', 'ExecutionNames',
];
const OOS_PARAMS = OOS_ACTION_NAMES.flatMap((a) => Object.keys((oosActions[a].schema as { properties?: Record<string, unknown> }).properties ?? {}));
const PARAM_NAMES = [...new Set([...FNF_PARAMS, ...OOS_PARAMS, 'Action', 'Version', 'Format', 'RegionId', 'AccessKeyId', 'Signature', 'Approver'])];

const LIST_ACTIONS: Target[] = [
  { action: 'ListFlows', version: FNF },
  { action: 'ListExecutions', version: FNF },
  { action: 'GetExecutionHistory', version: FNF },
  { action: 'ListTemplates', version: OOS },
  { action: 'ListTemplateVersions', version: OOS },
  { action: 'ListExecutions', version: OOS },
  { action: 'ListTaskExecutions', version: OOS },
  { action: 'ListExecutionLogs', version: OOS },
  { action: 'ListResourceExecutionStatus', version: OOS },
];

// ------------------------------------------------------------------------------------------
// generators

const SPECIAL_STRINGS = [
  '', ' ', 'null', 'true', 'false', '0', '-1', '1.5', '1e309', '-0', 'NaN', 'Infinity', '99999999999999999999999', '0x10',
  '[]', '{}', '[1,2]', '{"a":', '{"a":1}', '"str"', '[[[[[[', '\\', '"', "'", '%', '%ZZ', '%00', '\u0000', '\uD800', '\uDFFF', '\uFFFF',
  '😀', '你好', 'é', '\r\n', '\t', 'hello', 'hello:x', '__proto__', 'constructor', 'toString', '../../etc/passwd', '<script>',
  "' OR 1=1 --", '${x}', '{{ ACS::RegionId }}', 'a'.repeat(129), 'Standard', 'Express', 'FDL', 'Running', 'Approve',
  '2019-03-15', '2019-06-01', '2026-01-01T00:00:00Z', 'not-a-date',
];

const stringValue: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...SPECIAL_STRINGS) },
  { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.integer().map(String) },
  { weight: 1, arbitrary: fc.json({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 3000 }).map((n) => 'x'.repeat(n)) },
);

/** Strings whose UTF-8 is valid (what the JSON and form encoders can carry). */
const paramName: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...PARAM_NAMES) },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
  { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'Unknown', '', 'x'.repeat(300), 'Name[]', 'a.b') },
);

/** Deeply nested parameters: the server refuses bodies nested past MAX_BODY_NESTING (src/api/body.ts). */
const MAX_FUZZ_PARAM_DEPTH = 100_000;

const deepJsonText: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(10, 100, 1000, 5000, 20_000, 100_000, 300_000).map((depth) => `${'['.repeat(depth)}${']'.repeat(depth)}`),
  fc.constantFrom(10, 100, 1000, 5000, MAX_FUZZ_PARAM_DEPTH - 1).map((depth) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`),
  fc.constantFrom(10, 100, 5000).map((depth) => `{"Tags":${'['.repeat(depth)}${']'.repeat(depth)},"Parameters":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`),
);

/** JSON values for path-style bodies: any JSON, nested values, huge strings. */
const jsonValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: stringValue },
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false, 0, -1, 1.5, 1e308, [], {}, [[[]]], { a: { b: { c: {} } } }) },
  { weight: 1, arbitrary: fc.constantFrom(200, 999).map((depth) => JSON.parse(`${'['.repeat(depth)}${']'.repeat(depth)}`) as unknown) },
);

const target: fc.Arbitrary<Target> = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom(...TARGETS) },
  { weight: 1, arbitrary: fc.record({ action: fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('DoSomething', 'health', 'Action', '')), version: fc.constantFrom(FNF, OOS) }) },
);

type Entries = [string, string][];

const form = (entries: Entries): string => new URLSearchParams(entries).toString();

/** Only URL-safe path segments for path style; anything else goes through RPC style. */
const pathSafe = (action: string): boolean => /^[A-Za-z0-9._~-]*$/.test(action);

/** One request from a target, its parameters (repeats allowed), a style and a version. */
const paramsRequest: fc.Arbitrary<RawRequest> = fc
  .record({
    target,
    entries: fc.array(fc.tuple(paramName, stringValue), { maxLength: 8 }),
    jsonEntries: fc.array(fc.tuple(paramName, jsonValue), { maxLength: 6 }),
    style: fc.constantFrom('rpc-get', 'rpc-form', 'rpc-json', 'path-json', 'path-query'),
    withAction: fc.boolean(),
    versionPick: fc.nat(9),
    version: fc.oneof(fc.constantFrom(FNF, OOS, '2019-03-16', '', 'latest'), fc.string({ maxLength: 12 })),
  })
  .map(({ target: t, entries, jsonEntries, style, withAction, versionPick, version }): RawRequest => {
    const v = versionPick < 8 ? t.version : versionPick === 8 ? undefined : version;
    const common: Entries = [...(withAction || style.startsWith('rpc') ? [['Action', t.action] as [string, string]] : []), ...(v === undefined ? [] : [['Version', v] as [string, string]])];
    const path = pathSafe(t.action) && t.action !== '' ? `/${t.action}` : '/';
    switch (style) {
      case 'rpc-get':
        return { method: 'GET', path: `/?${form([...common, ...entries])}` };
      case 'rpc-form':
        return { method: 'POST', path: '/', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form([...common, ...entries]) };
      case 'rpc-json':
        return { method: 'POST', path: `/?${form(common)}`, headers: { 'content-type': 'application/json' }, body: JSON.stringify(Object.fromEntries(jsonEntries)) };
      case 'path-json':
        return { method: 'POST', path, headers: { 'content-type': 'application/json' }, body: JSON.stringify(Object.fromEntries([...common, ...jsonEntries])) };
      default:
        return { method: 'POST', path: `${path}?${form([...(v === undefined ? [] : [['Version', v] as [string, string]]), ...entries])}` };
    }
  });

const CONTENT_TYPES = [
  undefined, 'application/json', 'application/json; charset=utf-8', 'application/x-www-form-urlencoded', 'text/plain', 'text/csv',
  'multipart/form-data; boundary=x', 'application/xml', 'application/vnd.api+json', 'application/octet-stream', 'garbage', '', ';;;', 'APPLICATION/JSON',
];

/** Raw bodies: invalid, truncated, deeply nested, not-an-object JSON, invalid UTF-8, odd forms. */
const rawBody: fc.Arbitrary<string | Buffer> = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.jsonValue({ maxDepth: 3 }).chain((v) => {
    const text = JSON.stringify({ FlowName: 'hello', Name: 'hello', TemplateName: 't', Content: '{}', data: v });
    return fc.nat(text.length).map((cut) => text.slice(0, cut)); // truncated
  }),
  deepJsonText,
  fc.constantFrom('[]', '1', 'null', '"s"', 'true', '{"a":1}{"b":2}', '{"a":1,}', "{'a':1}", '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{}}}', '\uFEFF{}'),
  fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
  fc.constantFrom(Buffer.from([0xff, 0xfe, 0xfd]), Buffer.from([0xc3, 0x28]), Buffer.from('{"a":"\xed\xa0\x80"}', 'latin1')),
  fc.constantFrom('a=1&a=2&a=3', '&&&', '=', '==', '%', '%E0%A4%A', 'Action=ListFlows&Version=2019-03-15&Limit=abc', 'Action=%00&Version=%FF'),
);

const bodyRequest: fc.Arbitrary<RawRequest> = fc
  .record({ target, contentType: fc.constantFrom(...CONTENT_TYPES), body: rawBody, rpc: fc.boolean(), method: fc.constantFrom('POST', 'PUT', 'PATCH', 'DELETE') })
  .map(({ target: t, contentType, body, rpc, method }): RawRequest => ({
    method,
    path: rpc || !pathSafe(t.action) || t.action === '' ? `/?${form([['Action', t.action], ['Version', t.version]])}` : `/${t.action}`,
    headers: contentType === undefined ? ({} as Record<string, string>) : { 'content-type': contentType },
    body,
  }));

/** Bad pagination: NextToken garbage (random, base64 of anything, huge), Limit/MaxResults out of range. */
const nextToken: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc.jsonValue({ maxDepth: 2 }).map((v) => Buffer.from(JSON.stringify(v)).toString('base64')),
  fc.jsonValue({ maxDepth: 2 }).map((v) => Buffer.from(JSON.stringify(v)).toString('base64url')),
  fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b).toString('base64')),
  fc.constantFrom('', '0', '-1', 'null', 'x'.repeat(5000), 'eyJ9', 'eyJhIjoxfQ==', Buffer.from('{"v":1,"after":"zzz"}').toString('base64url')),
);
const pagingRequest: fc.Arbitrary<RawRequest> = fc
  .record({
    target: fc.constantFrom(...LIST_ACTIONS),
    token: nextToken,
    limit: fc.oneof(fc.integer({ min: -1000, max: 100_000 }).map(String), stringValue),
    extra: fc.array(fc.tuple(paramName, stringValue), { maxLength: 3 }),
    get: fc.boolean(),
  })
  .map(({ target: t, token, limit, extra, get }) => {
    const entries: Entries = [
      ['Action', t.action],
      ['Version', t.version],
      ['NextToken', token],
      [t.version === FNF ? 'Limit' : 'MaxResults', limit],
      ['FlowName', 'hello'],
      ['ExecutionName', 'x'],
      ['TemplateName', 't'],
      ['ExecutionId', 'exec-x'],
      ...extra,
    ];
    return get ? { method: 'GET', path: `/?${form(entries)}` } : { method: 'POST', path: '/', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form(entries) };
  });

/** The rest of the surface: methods, odd paths, bad versions, headers standing in for parameters. */
const surfaceRequest: fc.Arbitrary<RawRequest> = fc
  .record({
    method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'),
    path: fc.oneof(
      fc.constantFrom('/', '//', '/%ZZ', '/%00', '/a/b', '/StartSyncExecution/', '/StartSyncExecution/x', '/..%2f..%2fetc', '/health/', '/HEALTH', `/${'A'.repeat(3000)}`, '/?', '/?&&', '/?Action', '/?Action=&Version=', '/?Version=2019-06-01', '/?%', '/ListFlows?Version=2019-06-01', '/ListTemplates?Version=2019-03-15'),
      fc.constantFrom(...TARGETS).map((t) => `/${t.action}`),
      fc.string({ maxLength: 20 }).map((s) => `/${encodeURIComponent(s)}`),
    ),
    version: fc.option(fc.oneof(fc.constantFrom(FNF, OOS, '', 'x', '2019-03-15,2019-06-01'), fc.string({ maxLength: 10 }))),
    action: fc.option(fc.oneof(fc.constantFrom(...TARGETS.map((t) => t.action)), fc.string({ maxLength: 10 }))),
  })
  .map(({ method, path, version, action }) => {
    const headers: Record<string, string> = {};
    // header values must be latin1 without control characters
    const safe = (s: string): string => s.replace(/[^\x20-\x7e]/g, '?');
    if (version !== null) headers['x-acs-version'] = safe(version);
    if (action !== null) headers['x-acs-action'] = safe(action);
    return { method, path, headers };
  });

/** Sizes: bodies around the 1 MiB limit, 64 KiB Input, query strings past the header limit. */
const sizeRequest: fc.Arbitrary<RawRequest> = fc
  .record({
    size: fc.constantFrom(1024, 60_000, 65_536, 70_000, 1_000_000, 1_048_576, 1_100_000),
    kind: fc.constantFrom('input', 'definition', 'content', 'query', 'form', 'unicode'),
  })
  .map(({ size, kind }): RawRequest => {
    const big = 'x'.repeat(size);
    switch (kind) {
      case 'input':
        return { method: 'POST', path: '/StartSyncExecution', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ FlowName: 'hello', Input: JSON.stringify({ name: big }) }) };
      case 'definition':
        return { method: 'POST', path: '/CreateFlow', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ Name: 'big', Definition: big, Description: 'd', Type: 'FDL' }) };
      case 'content':
        return { method: 'POST', path: '/CreateTemplate', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ Version: OOS, TemplateName: 'big', Content: big }) };
      case 'query':
        return { method: 'GET', path: `/?Action=ListFlows&Version=${FNF}&NextToken=${big.slice(0, Math.min(size, 70_000))}` };
      case 'form':
        return { method: 'POST', path: '/', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `Action=StartSyncExecution&Version=${FNF}&FlowName=hello&Input=${big}` };
      default:
        return { method: 'POST', path: '/StartSyncExecution', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ FlowName: 'hello', Input: JSON.stringify({ name: '😀'.repeat(size / 4) }) }) };
    }
  });

/** Signing gone wrong, against a server that requires signatures (V2 and ACS3). */
const KEY = { id: 'LTAIfuzz0001', secret: 'fuzz-secret', account: '1000' };
const SIGNING_VALUES: Record<string, fc.Arbitrary<string>> = {
  AccessKeyId: fc.oneof(fc.constant(KEY.id), stringValue),
  SignatureMethod: fc.oneof(fc.constantFrom('HMAC-SHA1', 'HMAC-SHA256', 'hmac-sha1'), stringValue),
  SignatureVersion: fc.oneof(fc.constantFrom('1.0', '2.0', '1'), stringValue),
  SignatureNonce: fc.oneof(fc.uuid(), fc.constant('x'.repeat(129)), stringValue),
  Timestamp: fc.oneof(
    fc.integer({ min: -3_600_000, max: 3_600_000 }).map((d) => formatTimestamp(Date.now() + d)),
    fc.constantFrom('2026-02-30T00:00:00Z', '2026-01-01T24:00:00Z', '1970-01-01T00:00:00Z', '9999-12-31T23:59:59Z', '2026-01-01T00:00:00.123456789Z'),
    stringValue,
  ),
  Signature: stringValue,
  SecurityToken: stringValue,
  SignatureType: stringValue,
};
const signedRequest: fc.Arbitrary<RawRequest> = fc
  .record({
    target: fc.constantFrom(...TARGETS),
    scheme: fc.constantFrom('v2-valid', 'v2-tampered', 'v2-garbage', 'acs3-valid', 'acs3-tampered', 'acs3-garbage'),
    drop: fc.subarray(Object.keys(SIGNING_VALUES)),
    overrides: fc.record(SIGNING_VALUES, { requiredKeys: [] }),
    extra: fc.array(fc.tuple(paramName, stringValue), { maxLength: 4 }),
    authorization: fc.oneof(
      fc.string({ maxLength: 80 }),
      fc.tuple(fc.constantFrom('ACS3-HMAC-SHA256', 'ACS3-HMAC-SM3', 'ACS3-RSA-SHA256', 'ACS3-'), fc.string({ maxLength: 30 }), fc.string({ maxLength: 30 }), fc.string({ maxLength: 70 })).map(
        ([alg, cred, headers, sig]) => `${alg} Credential=${cred},SignedHeaders=${headers},Signature=${sig}`,
      ),
    ),
    acsHeaders: fc.dictionary(fc.constantFrom('x-acs-date', 'x-acs-signature-nonce', 'x-acs-content-sha256', 'x-acs-action', 'x-acs-version', 'x-acs-security-token', 'x-acs-other'), fc.string({ maxLength: 70 }), { maxKeys: 4 }),
    get: fc.boolean(),
  })
  .map(({ target: t, scheme, drop, overrides, extra, authorization, acsHeaders, get }): RawRequest => {
    const safe = (v: string): string => v.replace(/[^\x20-\x7e]/g, '?');
    const method = get ? 'GET' : 'POST';
    if (scheme.startsWith('v2')) {
      const params: Record<string, string> = {
        Action: t.action,
        Version: t.version,
        AccessKeyId: KEY.id,
        SignatureMethod: 'HMAC-SHA1',
        SignatureVersion: '1.0',
        SignatureNonce: randomUUID(),
        Timestamp: formatTimestamp(Date.now()),
        ...Object.fromEntries(extra),
      };
      if (scheme === 'v2-garbage') {
        Object.assign(params, overrides);
        for (const name of drop) delete params[name];
      }
      if (params['Signature'] === undefined || scheme !== 'v2-garbage') params['Signature'] = signRpcRequest(params, method, KEY.secret);
      if (scheme === 'v2-tampered') params['Action'] = `${t.action}x`;
      const text = form(Object.entries(params));
      return get ? { method, path: `/?${text}` } : { method, path: '/', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: text };
    }
    const body = get ? '' : form(extra);
    const signed = signAcs3Request({
      method,
      path: '/',
      headers: { host: '127.0.0.1', 'x-acs-action': t.action, 'x-acs-version': t.version, ...(get ? {} : { 'content-type': 'application/x-www-form-urlencoded' }) },
      body,
      accessKeyId: KEY.id,
      secret: KEY.secret,
      clock: systemClock,
    });
    const headers: Record<string, string> = { ...signed.headers };
    if (scheme === 'acs3-tampered') headers['x-acs-action'] = `${t.action}x`;
    if (scheme === 'acs3-garbage') {
      headers['authorization'] = safe(authorization);
      for (const [name, value] of Object.entries(acsHeaders)) headers[name] = safe(value);
    }
    return get ? { method, path: '/', headers } : { method, path: '/', headers, body };
  });

// ------------------------------------------------------------------------------------------

let stack: FullStack;
let signedStack: FullStack;
let sent = 0;
/** Answers by status, per server (the signed one must also let valid signatures through). */
const statuses = new Map<number, Map<number, number>>();
const rejections: unknown[] = [];
const onRejection = (reason: unknown): void => {
  rejections.push(reason);
};

beforeAll(async () => {
  process.on('unhandledRejection', onRejection);
  stack = await startFullStack({ service: { maxInputBytes: 64 * 1024 } });
  const keys = new AccessKeyStore([new AccessKey(KEY.id, KEY.secret, KEY.account)]);
  signedStack = await startFullStack({ app: { authenticate: createSignatureAuthenticator({ keys, clock: systemClock }).authenticate } });
});
afterAll(async () => {
  process.off('unhandledRejection', onRejection);
  await stack.close();
  await signedStack.close();
});

function describeRequest(r: RawRequest): string {
  const body = r.body === undefined ? '' : Buffer.isBuffer(r.body) ? `<${r.body.length} bytes>` : r.body.length > 300 ? `${r.body.slice(0, 300)}… (${r.body.length} chars)` : r.body;
  return `${r.method} ${r.path.length > 300 ? `${r.path.slice(0, 300)}…` : r.path} ${JSON.stringify(r.headers ?? {})} ${body}`;
}

/** Sends a batch at once; fails with the first request whose answer breaks the rules. */
async function sendBatch(batch: RawRequest[], port = stack.port): Promise<void> {
  const answers = await Promise.all(batch.map((r) => send(port, r)));
  sent += batch.length;
  const counts = statuses.get(port) ?? new Map<number, number>();
  statuses.set(port, counts);
  for (const a of answers) counts.set(a.status, (counts.get(a.status) ?? 0) + 1);
  answers.forEach((res, i) => {
    const problem = problemWith((batch[i] as RawRequest).method, res);
    if (problem) throw new Error(`${problem}\n  request: ${describeRequest(batch[i] as RawRequest)}`);
  });
}

/** Counterexamples are printed short (bodies can be a megabyte). */
const described = (arb: fc.Arbitrary<RawRequest>): fc.Arbitrary<RawRequest> =>
  arb.map((r) => Object.assign(r, { [fc.toStringMethod]: () => describeRequest(r) }));

const property = (arb: fc.Arbitrary<RawRequest>, runs: number, port?: number): Promise<void> =>
  fc.assert(
    fc.asyncProperty(fc.array(described(arb), { minLength: BATCH, maxLength: BATCH }), (batch) => sendBatch(batch, port)),
    { numRuns: runs, endOnFailure: true },
  );

describe('fuzz: every answer is a 200 or a catalogued 4xx JSON error', { timeout: 120_000 }, () => {
  it(`wrong types, missing and unknown parameters, repeated names, unicode — every action of both APIs, both styles (${RUNS.params * BATCH} requests)`, async () => {
    await property(paramsRequest, RUNS.params);
  });

  it(`invalid, truncated and deeply nested JSON, wrong content types, invalid UTF-8 (${RUNS.bodies * BATCH} requests)`, async () => {
    await property(bodyRequest, RUNS.bodies);
  });

  it(`bad pagination tokens and limits on every list action (${RUNS.paging * BATCH} requests)`, async () => {
    await property(pagingRequest, RUNS.paging);
  });

  it(`bad versions, methods, paths, and x-acs headers (${RUNS.surface * BATCH} requests)`, async () => {
    await property(surfaceRequest, RUNS.surface);
  });

  it(`huge strings and bodies at and past the limits (${RUNS.sizes * BATCH} requests)`, async () => {
    await property(sizeRequest, RUNS.sizes);
  });

  it(`with signatures required: missing, malformed, tampered and valid V2 / ACS3 signing (${RUNS.signed * BATCH} requests)`, async () => {
    await property(signedRequest, RUNS.signed, signedStack.port);
    const counts = statuses.get(signedStack.port);
    expect(counts?.get(200) ?? 0, 'valid signatures get through').toBeGreaterThan(0);
    expect(counts?.get(403) ?? 0, 'bad signatures are refused').toBeGreaterThan(0);
  });

  it('a body cut off by the client (the connection closes mid-body) gets no answer and hurts nothing', async () => {
    const { connect } = await import('node:net');
    for (let i = 0; i < 20; i++) {
      await new Promise<void>((resolve) => {
        const socket = connect(stack.port, '127.0.0.1', () => {
          socket.write(`POST /StartSyncExecution HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"FlowName":"hel`);
          setTimeout(() => socket.destroy(), 5);
        });
        socket.on('close', () => resolve());
        socket.on('error', () => resolve());
      });
    }
    sent += 20;
  });

  it(`${MIN_REQUESTS}+ requests were sent, no unhandled rejection, and the server is healthy afterwards`, async () => {
    expect(sent).toBeGreaterThanOrEqual(MIN_REQUESTS);
    expect(rejections).toEqual([]);
    const health = await send(stack.port, { method: 'GET', path: '/health' });
    expect(health.status).toBe(200);
    expect(JSON.parse(health.text)).toMatchObject({ Status: 'UP' });
    // the fuzz may have deleted or replaced `hello`: check with a flow of its own
    const definition = HELLO.replace('Name: hello', 'Name: after_fuzz');
    const created = await send(stack.port, { method: 'POST', path: '/CreateFlow', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ Name: 'after_fuzz', Definition: definition, Description: 'd', Type: 'FDL', ExecutionMode: 'Express' }) });
    expect(created.status, created.text).toBe(200);
    const run = await send(stack.port, { method: 'POST', path: '/StartSyncExecution', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ FlowName: 'after_fuzz', Input: '{"name":"fuzz"}' }) });
    expect(run.status, run.text).toBe(200);
    const body = JSON.parse(run.text) as { Status: string; Output: string };
    expect(body.Status).toBe('Succeeded');
    expect(JSON.parse(body.Output)).toEqual({ greeting: 'Hello, fuzz!' });
  });
});
