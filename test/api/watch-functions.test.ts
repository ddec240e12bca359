import { mkdir, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startServer } from '../../src/api/server.js';
import { silent, tempDir } from './helpers.js';

const FLOW = `Type: StateMachine
Name: versioned
SpecVersion: v1
StartAt: Call
States:
  - Type: Task
    Name: Call
    Action: FC:InvokeFunction
    Parameters:
      functionName: version
      body: {}
    OutputConstructor:
      v.$: $Output.Body.v
    End: true
`;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('serve --watch and local functions', () => {
  it('reloads a local function whose file changed', async () => {
    const { dir, remove } = await tempDir();
    cleanups.push(remove);
    await mkdir(join(dir, 'functions'));
    const fn = join(dir, 'functions', 'version.js');
    await writeFile(fn, 'export const handler = () => ({ v: 1 });\n');
    await writeFile(join(dir, 'versioned.yaml'), FLOW);
    const server = await startServer({ port: 0, flowsDir: dir, functionsDir: join(dir, 'functions'), watch: true, logger: silent });
    cleanups.push(() => server.close());
    const run = async (): Promise<unknown> => {
      const res = await fetch(`${server.url}/StartSyncExecution`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ FlowName: 'versioned' }),
      });
      const body = (await res.json()) as { Output?: string; Status: string };
      return JSON.parse(body.Output ?? 'null');
    };
    expect(await run()).toEqual({ v: 1 });
    await writeFile(fn, 'export const handler = () => ({ v: 2 });\n');
    const later = new Date(Date.now() + 5_000);
    await utimes(fn, later, later);
    await vi.waitFor(async () => expect(await run()).toEqual({ v: 2 }), { timeout: 10_000, interval: 50 });
    await rm(fn);
  });
});
