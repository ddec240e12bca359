/**
 * Test helpers: a capturing HTTP server on 127.0.0.1 (port 0) that records what a real SDK
 * client sends, and the conversion of a captured request into what `verifyRequest` takes.
 */
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { AccessKeyStore, AccessKey, NonceCache, parseUrlEncoded, verifyRequest } from '../../src/auth/index.js';
import type { SignedRequest, VerifiedCaller, VerifyOptions } from '../../src/auth/index.js';
import { ManualClock } from '../../src/shared/clock.js';
import { FlowrunError } from '../../src/shared/errors.js';

export const requireCjs = createRequire(import.meta.url);

/** 2026-03-04T05:06:07Z — the fixed "now" of the tests. */
export const T0 = Date.UTC(2026, 2, 4, 5, 6, 7);

export const ALICE = { AccessKeyId: 'LTAIalice0001', AccessKeySecret: 'alice-Secret+/=*~ é', AccountId: '1111111111111111' };
export const BOB = { AccessKeyId: 'LTAIbob0002', AccessKeySecret: 'bob-secret-value-xyz', AccountId: '2222222222222222' };

export function keyStore(): AccessKeyStore {
  return new AccessKeyStore([ALICE, BOB].map((k) => new AccessKey(k.AccessKeyId, k.AccessKeySecret, k.AccountId)));
}

export interface Fixture {
  clock: ManualClock;
  nonceCache: NonceCache;
  options: VerifyOptions;
  verify(request: SignedRequest): VerifiedCaller;
}

export function fixture(now = T0): Fixture {
  const clock = new ManualClock(now);
  const nonceCache = new NonceCache({ clock });
  const options: VerifyOptions = { keys: keyStore(), clock, nonceCache };
  return { clock, nonceCache, options, verify: (request) => verifyRequest(request, options) };
}

/** Runs `fn` and returns the FlowrunError it throws (fails the test when it throws nothing else). */
export function thrown(fn: () => unknown): FlowrunError {
  try {
    fn();
  } catch (err) {
    if (err instanceof FlowrunError) return err;
    throw err;
  }
  throw new Error('expected a FlowrunError, nothing was thrown');
}

export interface Captured {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface CaptureServer {
  host: string;
  port: number;
  captured: Captured[];
  close(): Promise<void>;
}

/** An HTTP server on 127.0.0.1, port 0, answering every request `{"RequestId":"captured"}`. */
export async function startCaptureServer(): Promise<CaptureServer> {
  const captured: Captured[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      captured.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"RequestId":"captured"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: '127.0.0.1',
    port,
    captured,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** What the HTTP layer would hand to verifyRequest for a captured request. */
export function toSignedRequest(c: Captured): SignedRequest {
  const q = c.url.indexOf('?');
  const contentType = String(c.headers['content-type'] ?? '');
  return {
    method: c.method,
    path: q < 0 ? c.url : c.url.slice(0, q),
    query: q < 0 ? {} : parseUrlEncoded(c.url.slice(q + 1)),
    form: contentType.startsWith('application/x-www-form-urlencoded') ? parseUrlEncoded(c.body.toString('utf8')) : undefined,
    headers: c.headers,
    rawBody: c.body,
  };
}

/** Values with Unicode and every character the encodings treat specially. */
export const TRICKY_VALUES = {
  Accents: 'é à ü — 你好 😀',
  Reserved: "a*b~c d+e/f!g'h(i)j&k=l%m?n#o,p;q:r@s$",
  Input: '{"name":"é*~ +/","list":[1,2],"path":"/a/b?c=d&e"}',
  Spaces: '  leading and trailing  ',
  Empty: '',
} as const;

interface DarabonbaModule {
  default: new (config: unknown) => { callApi(params: unknown, request: unknown, runtime: unknown): Promise<unknown> };
  Config: new (fields: Record<string, unknown>) => unknown;
  Params: new (fields: Record<string, unknown>) => unknown;
  OpenApiRequest: new (fields: Record<string, unknown>) => unknown;
}
interface TeaUtilModule {
  RuntimeOptions: new (fields: Record<string, unknown>) => unknown;
}

export interface DarabonbaCall {
  key: { AccessKeyId: string; AccessKeySecret: string };
  /** 'v2' = RPC signature V2 (what the fnf SDK uses); undefined = ACS3-HMAC-SHA256 (the default). */
  signatureAlgorithm: 'v2' | undefined;
  method: 'GET' | 'POST';
  query?: Record<string, string>;
  body?: Record<string, string>;
  action?: string;
}

/**
 * Calls the official Darabonba client (`@alicloud/openapi-client`, the runtime of the generated
 * `@alicloud/fnf20190315` SDK) against the capture server, as the fnf SDK does: style RPC,
 * pathname `/`, form-data request body.
 */
export async function callDarabonba(server: CaptureServer, call: DarabonbaCall): Promise<Captured> {
  const openapi = requireCjs('@alicloud/openapi-client') as DarabonbaModule;
  const util = requireCjs('@alicloud/tea-util') as TeaUtilModule;
  const config = new openapi.Config({
    accessKeyId: call.key.AccessKeyId,
    accessKeySecret: call.key.AccessKeySecret,
    endpoint: `${server.host}:${server.port}`,
    protocol: 'http',
    ...(call.signatureAlgorithm === undefined ? {} : { signatureAlgorithm: call.signatureAlgorithm }),
  });
  const client = new openapi.default(config);
  const params = new openapi.Params({
    action: call.action ?? 'StartSyncExecution',
    version: '2019-03-15',
    protocol: 'HTTP',
    pathname: '/',
    method: call.method,
    authType: 'AK',
    style: 'RPC',
    reqBodyType: 'formData',
    bodyType: 'json',
  });
  const request = new openapi.OpenApiRequest({ ...(call.query ? { query: call.query } : {}), ...(call.body ? { body: call.body } : {}) });
  const before = server.captured.length;
  await client.callApi(params, request, new util.RuntimeOptions({}));
  const captured = server.captured[before];
  if (!captured) throw new Error('the Darabonba client sent nothing');
  return captured;
}
