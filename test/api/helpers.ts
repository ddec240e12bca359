import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { Logger } from 'pino';
import request from 'supertest';
import type { Express } from 'express';
import { createApp } from '../../src/api/app.js';
import type { AppDeps } from '../../src/api/app.js';
import type { ActionDefinition } from '../../src/engine/types.js';
import { FlowService } from '../../src/fnf/service.js';
import type { FlowServiceOptions } from '../../src/fnf/service.js';
import { createRuntime } from '../../src/runtime.js';
import type { Runtime } from '../../src/runtime.js';
import type { Clock } from '../../src/shared/clock.js';
import type { Json } from '../../src/shared/json.js';

export const VERSION = '2019-03-15';
export const silent: Logger = pino({ level: 'silent' });

/** A flow that answers `{greeting}` from `{name}`. */
export const HELLO = `Type: StateMachine
Name: hello
SpecVersion: v1
StartAt: Greet
States:
  - Type: Pass
    Name: Greet
    OutputConstructor:
      greeting.$: format("Hello, {}!", $Input.name)
    End: true
`;

/** A flow that fails with a Fail state. */
export const FAILING = `Type: StateMachine
Name: failing
SpecVersion: v1
StartAt: Boom
States:
  - Type: Fail
    Name: Boom
    Code: Order.Invalid
    Detail: the order has no items
`;

/** A flow whose only Task runs the controllable `Test:Block` action. */
export const BLOCKER = `Type: StateMachine
Name: blocker
SpecVersion: v1
StartAt: Block
States:
  - Type: Task
    Name: Block
    Action: Test:Block
    End: true
`;

/** A flow waiting on a Mock task for 10 minutes of clock time (longer than the 5-minute limit). */
export const SLOW = `Type: StateMachine
Name: slow
SpecVersion: v1
StartAt: Work
States:
  - Type: Task
    Name: Work
    Action: Mock
    Parameters:
      delaySeconds: 600
      result:
        done: true
    End: true
`;

export interface BlockCall {
  signal: AbortSignal;
  release(output?: Json): void;
}

/**
 * `Test:Block`: each call waits until the test releases it (or its signal aborts). `open()`
 * makes later calls (and those waiting) finish at once.
 */
export function blockAction(): {
  def: ActionDefinition;
  calls: BlockCall[];
  /** Resolves with the n-th call (1-based) once it has started. */
  started(n: number): Promise<BlockCall>;
  open(): void;
} {
  const calls: BlockCall[] = [];
  const waiting = new Map<number, ((call: BlockCall) => void)[]>();
  let opened = false;
  const def: ActionDefinition = {
    name: 'Test:Block',
    description: 'waits for the test',
    parametersSchema: { type: 'object' },
    highRisk: false,
    run(_params, ctx) {
      return new Promise<Json>((resolve, reject) => {
        const call: BlockCall = { signal: ctx.signal, release: (output = { released: true }) => resolve(output) };
        calls.push(call);
        for (const w of waiting.get(calls.length) ?? []) w(call);
        waiting.delete(calls.length);
        ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error), { once: true });
        if (opened) call.release();
      });
    },
  };
  return {
    def,
    calls,
    started(n) {
      const call = calls[n - 1];
      if (call) return Promise.resolve(call);
      return new Promise((resolve) => waiting.set(n, [...(waiting.get(n) ?? []), resolve]));
    },
    open() {
      opened = true;
      for (const c of calls) c.release();
    },
  };
}

export interface TestApi {
  app: Express;
  service: FlowService;
  runtime: Runtime;
  block: ReturnType<typeof blockAction>;
  close(): Promise<void>;
}

/** A fresh runtime + service + app, with `Test:Block` registered and the given flows created (Express). */
export async function makeApi(
  options: {
    clock?: Clock;
    service?: Omit<FlowServiceOptions, 'runtime'>;
    app?: Omit<AppDeps, 'service'>;
    flows?: string[];
  } = {},
): Promise<TestApi> {
  const runtime = createRuntime({ ...(options.clock ? { clock: options.clock } : {}), functionsDir: 'flows/functions' });
  const block = blockAction();
  runtime.engine.registry.register(block.def);
  const service = new FlowService({ runtime, logger: silent, ...options.service });
  for (const definition of options.flows ?? []) {
    const name = /^Name: (\S+)$/m.exec(definition)?.[1] ?? 'flow';
    await service.createFlow({ Name: name, Definition: definition, Description: `${name} flow`, Type: 'FDL', ExecutionMode: 'Express' });
  }
  const app = createApp({ service, logger: silent, ...options.app });
  return {
    app,
    service,
    runtime,
    block,
    async close() {
      block.open();
      await service.close();
      await runtime.close();
    },
  };
}

/** RPC-style call: GET with everything in the query, or POST with a form body (as pop-core does). */
export function rpc(app: Express, action: string, params: Record<string, string | number | boolean> = {}, method: 'GET' | 'POST' = 'GET'): request.Test {
  const all = new URLSearchParams({ Action: action, Version: VERSION, Format: 'JSON' });
  for (const [k, v] of Object.entries(params)) all.set(k, String(v));
  if (method === 'GET') return request(app).get(`/?${all.toString()}`);
  return request(app).post('/').type('form').send(all.toString());
}

/** Path-style call: POST /<Action> with a JSON body. */
export function call(app: Express, action: string, body: Record<string, unknown> = {}): request.Test {
  return request(app).post(`/${action}`).send(body);
}

export async function tempDir(): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'flowrun-api-'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
