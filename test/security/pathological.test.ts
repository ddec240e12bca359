/**
 * Pathological flows and templates end cleanly within the limits, through the HTTP API: a Choice
 * loop that never ends (event cap), a Map over a huge array, outputs growing past 64 KiB, and
 * catastrophic regular expressions in `regexMatchString` (FnF) and `AllowedPattern` (OOS, wired in
 * the app by Version 2019-06-01). The server keeps answering /health. No timing assertions.
 *
 * Patterns V8's linear-time fallback cannot run (backreferences, lookarounds) are refused by
 * regexMatchString; AllowedPattern compiles without the `u` flag so the fallback applies.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../../src/api/server.js';
import type { RunningServer } from '../../src/api/server.js';
import { MAX_STATE_IO_BYTES } from '../../src/shared/limits.js';
import { tempDir } from '../api/helpers.js';
import { send, silent, startFullStack } from './helpers.js';
import type { FullStack } from './helpers.js';

const FLOWS: Record<string, string> = {
  forever: `Type: StateMachine
Name: forever
SpecVersion: v1
StartAt: Again
States:
  - Type: Choice
    Name: Again
    Branches:
      - Condition: "true"
        Next: Spin
    Default: Spin
  - Type: Pass
    Name: Spin
    Next: Again
`,
  grow: `Type: StateMachine
Name: grow
SpecVersion: v1
StartAt: Init
States:
  - Type: Pass
    Name: Init
    OutputConstructor:
      s: xxxxxxxxxxxxxxxx
    Next: Double
  - Type: Pass
    Name: Double
    OutputConstructor:
      s.$: format("{}{}", $Input.s, $Input.s)
    Next: Check
  - Type: Choice
    Name: Check
    Branches:
      - Condition: length($Input.s) < 100000000
        Next: Double
    Default: Done
  - Type: Succeed
    Name: Done
`,
  wide: `Type: StateMachine
Name: wide
SpecVersion: v1
StartAt: Each
States:
  - Type: Map
    Name: Each
    ItemsPath: $Input.items
    MaxConcurrency: 40
    Processor:
      StartAt: One
      States:
        - Type: Pass
          Name: One
          End: true
    End: true
`,
  split: `Type: StateMachine
Name: split
SpecVersion: v1
StartAt: Each
States:
  - Type: Map
    Name: Each
    ItemsPath: split($Input.text, ",")
    Processor:
      StartAt: One
      States:
        - Type: Pass
          Name: One
          End: true
    End: true
`,
  regex: `Type: StateMachine
Name: regex
SpecVersion: v1
StartAt: Match
States:
  - Type: Pass
    Name: Match
    OutputConstructor:
      matched.$: regexMatchString($Input.s, $Input.pattern)
      constant.$: regexMatchString($Input.s, "^(a+)+$")
    End: true
`,
};

let server: RunningServer;
let removeDir: () => Promise<void>;

beforeAll(async () => {
  const tmp = await tempDir();
  removeDir = tmp.remove;
  for (const [name, text] of Object.entries(FLOWS)) await writeFile(join(tmp.dir, `${name}.yaml`), text);
  server = await startServer({ port: 0, host: '127.0.0.1', flowsDir: tmp.dir, logger: silent });
});
afterAll(async () => {
  await server.close();
  await removeDir();
});

interface SyncBody {
  Status: string;
  ErrorCode?: string;
  ErrorMessage?: string;
  Output?: string;
}

async function start(flow: string, input: unknown): Promise<{ status: number; body: SyncBody }> {
  const res = await send(server.port, { method: 'POST', path: '/StartSyncExecution', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ FlowName: flow, Input: JSON.stringify(input) }) });
  return { status: res.status, body: JSON.parse(res.text) as SyncBody };
}

async function healthy(): Promise<void> {
  const res = await send(server.port, { method: 'GET', path: '/health' });
  expect(res.status).toBe(200);
  expect(JSON.parse(res.text)).toMatchObject({ Status: 'UP' });
}

describe('pathological flows end cleanly within the limits', { timeout: 60_000 }, () => {
  it('a Choice loop that never ends → Failed, FnF.EventLimitExceeded', async () => {
    const r = await start('forever', {});
    expect(r.status).toBe(200);
    expect(r.body.Status).toBe('Failed');
    expect(r.body.ErrorCode).toBe('FnF.EventLimitExceeded');
    await healthy();
  });

  it('outputs that grow past 64 KiB → Failed, FnF.DataLimitExceeded', async () => {
    const r = await start('grow', {});
    expect(r.body.Status).toBe('Failed');
    expect(r.body.ErrorCode).toBe('FnF.DataLimitExceeded');
    await healthy();
  });

  it('a Map over the largest array an Input can hold (32,000 items) → ends at the event cap', async () => {
    const items = new Array<number>(32_000).fill(0);
    expect(JSON.stringify({ items }).length).toBeLessThanOrEqual(MAX_STATE_IO_BYTES);
    const [r] = await Promise.all([start('wide', { items }), healthy()]);
    expect(r.status).toBe(200);
    expect(r.body.Status).toBe('Failed');
    expect(r.body.ErrorCode).toBe('FnF.EventLimitExceeded');
    await healthy();
  });

  it('a Map over an array built inside the flow (split of 64 KiB) → ends within the limits', async () => {
    const text = new Array<string>(32_000).fill('a').join(',');
    const r = await start('split', { text });
    expect(r.status).toBe(200);
    expect(r.body.Status).toBe('Failed');
    expect(['FnF.EventLimitExceeded', 'FnF.DataLimitExceeded']).toContain(r.body.ErrorCode);
    await healthy();
  });

  it('an Input over 64 KiB is refused before anything runs (EntityTooLarge)', async () => {
    const r = await start('wide', { items: new Array<number>(40_000).fill(0) });
    expect(r.status).toBe(400);
    expect((r.body as unknown as { Code: string }).Code).toBe('EntityTooLarge');
  });

  it('regexMatchString with a catastrophic pattern on 60,000 characters ends (linear-time fallback); /health answers meanwhile', async () => {
    const s = `${'a'.repeat(60_000)}!`;
    const [r] = await Promise.all([start('regex', { s, pattern: '^(a+)+$' }), healthy(), healthy()]);
    expect(r.status).toBe(200);
    expect(r.body.Status, r.body.ErrorMessage).toBe('Succeeded');
    expect(JSON.parse(r.body.Output ?? '{}')).toEqual({ matched: false, constant: false });
    const nested = await start('regex', { s: `${'ab'.repeat(30_000)}!`, pattern: '^((a|b)*)*c$' });
    expect(nested.body.Status).toBe('Succeeded');
    await healthy();
  });

  it('regexMatchString refuses backreferences and lookarounds (they defeat the linear-time fallback)', async () => {
    for (const pattern of ['^(a+)+\\1$', '^(?=(a+)+$)b', '(?<!x)(a+)+$']) {
      const r = await start('regex', { s: `${'a'.repeat(60_000)}!`, pattern });
      expect(r.body.Status).toBe('Failed');
      expect(r.body.ErrorCode).toBe('FnF.Runtime');
      expect(r.body.ErrorMessage).toContain('linear time');
    }
    await healthy();
  });

  it('a pattern or a subject over the limits is refused as a flow error, not a hang', async () => {
    const big = await start('regex', { s: 'a', pattern: 'a'.repeat(1001) });
    expect(big.body.Status).toBe('Failed');
    const bad = await start('regex', { s: 'a', pattern: '(' });
    expect(bad.body.Status).toBe('Failed');
    await healthy();
  });
});

describe('OOS AllowedPattern (OOS is routed by the app on Version 2019-06-01)', { timeout: 60_000 }, () => {
  let stack: FullStack;
  beforeAll(async () => {
    stack = await startFullStack();
  });
  afterAll(async () => {
    await stack.close();
  });

  const template = (pattern: string): string =>
    JSON.stringify({
      FormatVersion: 'OOS-2019-06-01',
      Parameters: { name: { Type: 'String', AllowedPattern: pattern, MaxLength: 10 } },
      Tasks: [{ Name: 'nap', Action: 'ACS::Sleep', Properties: { Duration: 'PT1S' } }],
    });

  async function startExecution(pattern: string, value: string): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await send(stack.port, {
      method: 'POST',
      path: '/StartExecution',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ Version: '2019-06-01', TemplateContent: template(pattern), Parameters: JSON.stringify({ name: value }) }),
    });
    return { status: res.status, body: JSON.parse(res.text) as Record<string, unknown> };
  }

  it('a catastrophic AllowedPattern on a long value is refused with TemplateValidationError; /health answers', async () => {
    const [r, health] = await Promise.all([startExecution('(a+)+$', `${'a'.repeat(60_000)}!`), send(stack.port, { method: 'GET', path: '/health' })]);
    expect(r.status).toBe(400);
    expect(r.body['Code']).toBe('TemplateValidationError');
    expect(health.status).toBe(200);
  });

  it('a safe AllowedPattern on a long value is quick to refuse', async () => {
    const r = await startExecution('[a-z]+', `${'a'.repeat(60_000)}!`);
    expect(r.status).toBe(400);
    expect(r.body['Code']).toBe('TemplateValidationError');
  });
});
