import { once } from 'node:events';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/shared/clock.js';
import { ErrorNames } from '../../src/shared/errors.js';
import type { JsonObject } from '../../src/shared/json.js';
import { ActionRegistry, createHttpRequestAction, createTaskEngine } from '../../src/engine/index.js';
import { rejectionOf, request } from './helpers.js';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

let server: Server;
let base: string;
const routes = new Map<string, Handler>();
/** Requests the "hang" route received, with a promise that settles when each connection closes. */
const hanging: { req: IncomingMessage; closed: Promise<void> }[] = [];
let hangArrived: (() => void) | undefined;

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const handler = routes.get(url.pathname);
      if (!handler) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end(`no route ${url.pathname}`);
        return;
      }
      handler(req, res, Buffer.concat(chunks).toString('utf8'));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  routes.set('/json', (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'X-Custom': 'yes' }).end(JSON.stringify({ items: [1, 2], name: 'a' }));
  });
  routes.set('/text', (_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('plain words'));
  routes.set('/bad-json', (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{not json'));
  routes.set('/busy', (_req, res) => res.writeHead(503, { 'content-type': 'text/plain' }).end('server busy, come back later'));
  routes.set('/throttled', (_req, res) => res.writeHead(429).end());
  routes.set('/echo', (req, res, body) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    res.writeHead(201, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        method: req.method,
        query: Object.fromEntries(url.searchParams),
        auth: req.headers.authorization ?? null,
        number: req.headers['x-number'] ?? null,
        contentType: req.headers['content-type'] ?? null,
        body,
      }),
    );
  });
  routes.set('/big', (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' }); // chunked: no content-length
    for (let i = 0; i < 10; i++) res.write('x'.repeat(1024));
    res.end();
  });
  routes.set('/hang', (req) => {
    const closed = new Promise<void>((resolve) => req.socket.once('close', () => resolve()));
    hanging.push({ req, closed });
    hangArrived?.();
  });
});

afterAll(async () => {
  server.closeAllConnections();
  server.close();
  await once(server, 'close');
});

function arrival(): Promise<void> {
  return new Promise<void>((resolve) => (hangArrived = resolve));
}

describe('HTTP:Request against a real server', () => {
  const engine = createTaskEngine();

  it('parses a JSON response and returns lower-case headers', async () => {
    const out = (await engine.runTask(request('HTTP:Request', { url: `${base}/json` }))) as Record<string, unknown>;
    expect(out.StatusCode).toBe(200);
    expect(out.Body).toEqual({ items: [1, 2], name: 'a' });
    expect((out.Headers as Record<string, string>)['x-custom']).toBe('yes');
    expect((out.Headers as Record<string, string>)['content-type']).toBe('application/json; charset=utf-8');
  });

  it('returns a text body as text, and unparsable JSON as text', async () => {
    expect(await engine.runTask(request('HTTP:Request', { url: `${base}/text` }))).toMatchObject({ StatusCode: 200, Body: 'plain words' });
    expect(await engine.runTask(request('HTTP:Request', { url: `${base}/bad-json` }))).toMatchObject({ Body: '{not json' });
  });

  it('sends method, query, headers and a JSON body', async () => {
    const out = await engine.runTask(
      request('HTTP:Request', {
        method: 'POST',
        url: `${base}/echo?fixed=1`,
        query: { q: 'a b', n: 3, flag: true },
        headers: { Authorization: 'Bearer t0k', 'X-Number': 7 },
        body: { hello: ['world'] },
      }),
    );
    expect(out).toMatchObject({
      StatusCode: 201,
      Body: {
        method: 'POST',
        query: { fixed: '1', q: 'a b', n: '3', flag: 'true' },
        auth: 'Bearer t0k',
        number: '7',
        contentType: 'application/json',
        body: '{"hello":["world"]}',
      },
    });
  });

  it('sends a string body as is, keeping a given content-type', async () => {
    const out = await engine.runTask(
      request('HTTP:Request', { method: 'PUT', url: `${base}/echo`, headers: { 'content-type': 'text/csv' }, body: 'a,b\n1,2' }),
    );
    expect(out).toMatchObject({ Body: { method: 'PUT', contentType: 'text/csv', body: 'a,b\n1,2' } });
  });

  it('503 → HTTP.503, retryable, with the status and a body excerpt', async () => {
    const err = await rejectionOf(engine.runTask(request('HTTP:Request', { url: `${base}/busy?secret=s3cr3t` })));
    expect(err.code).toBe('HTTP.503');
    expect(err.retryable).toBe(true);
    expect(err.message).toContain('HTTP 503');
    expect(err.message).toContain('server busy, come back later');
    expect(err.message).not.toContain('s3cr3t');
    expect((await rejectionOf(engine.runTask(request('HTTP:Request', { url: `${base}/throttled` })))).retryable).toBe(true);
  });

  it('404 → HTTP.404, not retryable', async () => {
    const err = await rejectionOf(engine.runTask(request('HTTP:Request', { url: `${base}/missing` })));
    expect([err.code, err.retryable]).toEqual(['HTTP.404', false]);
    expect(err.message).toContain('no route /missing');
  });

  it('a body over the limit → HTTP.ResponseTooLarge', async () => {
    const small = createTaskEngine({ registry: new ActionRegistry([createHttpRequestAction({ maxResponseBytes: 4096 })]) });
    const err = await rejectionOf(small.runTask(request('HTTP:Request', { url: `${base}/big` })));
    expect([err.code, err.retryable]).toEqual(['HTTP.ResponseTooLarge', false]);
    const ok = createTaskEngine({ registry: new ActionRegistry([createHttpRequestAction({ maxResponseBytes: 20_000 })]) });
    expect(((await ok.runTask(request('HTTP:Request', { url: `${base}/big` }))) as { Body: string }).Body).toHaveLength(10_240);
  });

  it('a refused connection → HTTP.ConnectionError, retryable', async () => {
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const port = (closed.address() as AddressInfo).port;
    closed.close();
    await once(closed, 'close');
    const err = await rejectionOf(engine.runTask(request('HTTP:Request', { url: `http://127.0.0.1:${port}/` })));
    expect([err.code, err.retryable]).toEqual(['HTTP.ConnectionError', true]);
    expect(err.message).toContain('ECONNREFUSED');
  });

  it('rejects bad parameters without sending anything', async () => {
    const bad: JsonObject[] = [{ url: 'ftp://x/' }, { url: `${base}/echo`, method: 'GET', body: { a: 1 } }, { url: 'not a url' }, { method: 'BREW', url: `${base}/` }];
    for (const parameters of bad) {
      const err = await rejectionOf(engine.runTask(request('HTTP:Request', parameters)));
      expect([err.code, err.retryable]).toEqual([ErrorNames.TaskFailed, false]);
      expect(err.message).toMatch(/^HTTP:Request: /);
    }
  });

  it('a Task timeout aborts the request: FnF.Timeout, and the server sees the connection closed', async () => {
    const clock = new ManualClock();
    const timed = createTaskEngine({ clock });
    const arrived = arrival();
    const task = rejectionOf(timed.runTask(request('HTTP:Request', { url: `${base}/hang` }, { timeoutMs: 30_000 })));
    await arrived;
    const hung = hanging[hanging.length - 1];
    expect(hung?.req.socket.destroyed).toBe(false);
    await clock.advance(30_000);
    const err = await task;
    expect([err.code, err.retryable]).toEqual([ErrorNames.Timeout, true]);
    await hung?.closed; // hangs (and the test times out) if the connection stayed open
    expect(hung?.req.socket.destroyed).toBe(true);
    expect(clock.pendingCount).toBe(0);
  });

  it('the timeoutSeconds parameter also aborts the request with FnF.Timeout', async () => {
    const clock = new ManualClock();
    const timed = createTaskEngine({ clock });
    const arrived = arrival();
    const task = rejectionOf(timed.runTask(request('HTTP:Request', { url: `${base}/hang`, timeoutSeconds: 2 })));
    await arrived;
    await clock.advance(2_000);
    const err = await task;
    expect([err.code, err.retryable]).toEqual([ErrorNames.Timeout, true]);
    expect(err.message).toContain('timed out after 2 s');
    await hanging[hanging.length - 1]?.closed;
  });

  it('an external abort → FnF.Cancelled, and the connection is closed', async () => {
    const controller = new AbortController();
    const arrived = arrival();
    const task = rejectionOf(engine.runTask(request('HTTP:Request', { url: `${base}/hang` }, { signal: controller.signal })));
    await arrived;
    controller.abort();
    const err = await task;
    expect([err.code, err.retryable]).toEqual([ErrorNames.Cancelled, false]);
    await hanging[hanging.length - 1]?.closed;
    expect(hanging[hanging.length - 1]?.req.socket.destroyed).toBe(true);
  });
});
