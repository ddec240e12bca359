/**
 * One flowrun "process" with OOS executions: a SQLite store in a temporary folder, a runtime (its
 * engine holds the built-in actions), a durable runner, the OOS service, and the HTTP app with
 * both products. Time is a ManualClock; nothing sleeps for real.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Express } from 'express';
import pino from 'pino';
import request from 'supertest';
import { createApp } from '../../src/api/app.js';
import { DurableRunner } from '../../src/executions/durable-runner.js';
import type { DurableRunnerOptions } from '../../src/executions/durable-runner.js';
import { createOosExecutionService } from '../../src/executions/oos/index.js';
import type { OosExecutionConfig, OosExecutionService } from '../../src/executions/oos/index.js';
import type { ExecutionStore } from '../../src/executions/store.js';
import { FlowService } from '../../src/fnf/service.js';
import type { CommandRequest, CommandResult, Inventory } from '../../src/oos/index.js';
import { createRuntime } from '../../src/runtime.js';
import type { Runtime } from '../../src/runtime.js';
import { ManualClock } from '../../src/shared/clock.js';
import { openSqliteStore } from '../../src/store/sqlite.js';

export const OOS_VERSION = '2019-06-01';
export const T0 = Date.UTC(2026, 0, 1);
export const silent = pino({ level: 'silent' });

export interface OosNode {
  store: ExecutionStore;
  runner: DurableRunner;
  oos: OosExecutionService;
  runtime: Runtime;
  app: Express;
  /** Runs until nothing is being stepped. */
  settle(): Promise<void>;
  /** Moves the clock and settles. */
  advance(ms: number): Promise<void>;
  /** Stops this process (runner first, then the service), leaving the database. */
  stop(): Promise<void>;
}

export class OosWorld {
  readonly dir = mkdtempSync(join(tmpdir(), 'flowrun-oos-'));
  readonly file = join(this.dir, 'flowrun.db');
  readonly clock = new ManualClock(T0);
  private readonly nodes: OosNode[] = [];

  /** Starts a process over the world's database (call `recover` to resume what a previous one left). */
  async node(config: OosExecutionConfig = {}, runnerOptions: Partial<DurableRunnerOptions> = {}): Promise<OosNode> {
    const store = await openSqliteStore({ file: this.file, now: this.clock.now() });
    const runtime = createRuntime({ clock: this.clock, functionsDir: 'flows/functions' });
    const runner = new DurableRunner({
      store,
      tasks: runtime.engine.runTask,
      clock: this.clock,
      resolveFlow: () => Promise.reject(new Error('no FnF flows in these tests')),
      logger: silent,
      leaseMs: 30_000,
      signalPollMs: 100,
      ...runnerOptions,
    });
    const oos = await createOosExecutionService({ store, runner, engine: runtime.engine, clock: this.clock, logger: silent, config: { cancelWaitMs: 0, ...config } });
    const service = new FlowService({ runtime, logger: silent });
    const app = createApp({ service, oos, logger: silent });
    let stopped = false;
    const node: OosNode = {
      store,
      runner,
      oos,
      runtime,
      app,
      settle: () => runner.settled(),
      advance: async (ms) => {
        await this.clock.advance(ms);
        await runner.settled();
      },
      stop: async () => {
        if (stopped) return;
        stopped = true;
        await runner.close();
        await oos.close();
        await service.close();
        await runtime.close();
        await store.close();
      },
    };
    this.nodes.push(node);
    return node;
  }

  async dispose(): Promise<void> {
    for (const n of this.nodes.splice(0).reverse()) await n.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Path-style OOS call: POST /<Action> with a JSON body and `Version: 2019-06-01`. */
export function oos(app: Express, action: string, body: Record<string, unknown> = {}): request.Test {
  return request(app)
    .post(`/${action}`)
    .send({ Version: OOS_VERSION, ...body });
}

/** RPC-style OOS call (form body, as the SDKs send). */
export function oosRpc(app: Express, action: string, params: Record<string, string | number | boolean> = {}): request.Test {
  const all = new URLSearchParams({ Action: action, Version: OOS_VERSION, Format: 'JSON' });
  for (const [k, v] of Object.entries(params)) all.set(k, String(v));
  return request(app).post('/').type('form').send(all.toString());
}

/** An inventory of `n` ECS instances `i-000`…, tagged `fleet: <tag>`. */
export function inventoryOf(n: number, tag = 'web'): Inventory {
  return {
    Resources: Array.from({ length: n }, (_, i) => ({
      ResourceId: `i-${String(i).padStart(3, '0')}`,
      ResourceType: 'ALIYUN::ECS::Instance',
      RegionId: 'cn-hangzhou',
      Status: 'Running',
      Tags: { fleet: tag },
      Attributes: {},
    })),
  };
}

/**
 * A command runner the test controls: commands answer at once with `ok <id>` unless `fail` names
 * the instance (exit 1), or `hold` is set (they wait for `release()` or their abort signal).
 */
export function fakeCommands(options: { fail?: string[] } = {}): {
  run: (r: CommandRequest) => Promise<CommandResult>;
  calls: CommandRequest[];
  hold: boolean;
  aborted: string[];
  release(): void;
} {
  const waiting: (() => void)[] = [];
  const self = {
    calls: [] as CommandRequest[],
    hold: false,
    aborted: [] as string[],
    release(): void {
      for (const w of waiting.splice(0)) w();
    },
    run: async (r: CommandRequest): Promise<CommandResult> => {
      self.calls.push(r);
      const id = r.instance.ResourceId;
      if (self.hold) {
        await new Promise<void>((resolve, reject) => {
          waiting.push(resolve);
          r.signal.addEventListener(
            'abort',
            () => {
              self.aborted.push(id);
              reject(r.signal.reason as Error);
            },
            { once: true },
          );
        });
      }
      if (options.fail?.includes(id)) return { exitCode: 1, output: `boom on ${id}\n` };
      return { exitCode: 0, output: `ok ${id}\n` };
    },
  };
  return self;
}

/** A local HTTP server recording requests; answers `{ok: true, path, body}` (JSON bodies echoed). */
export async function hookServer(): Promise<{ url: string; received: { method: string; path: string; body: string }[]; close(): Promise<void> }> {
  const { createServer } = await import('node:http');
  const received: { method: string; path: string; body: string }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      received.push({ method: req.method ?? '', path: req.url ?? '', body });
      let parsed: unknown = body;
      try {
        parsed = body === '' ? null : JSON.parse(body);
      } catch {
        // not JSON: echoed as text
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ ok: true, path: req.url, body: parsed }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
