import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI in a child process, as `npm run flowrun -- …` does. */
function cli(...args: string[]): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const dir = mkdtempSync(join(tmpdir(), 'flowrun-cli-'));
const broken = join(dir, 'broken.yaml');
writeFileSync(
  broken,
  `Type: StateMachine
Name: broken
SpecVersion: v1
StartAt: Nowhere
States:
  - Type: Pass
    Name: A
    Next: Missing
  - Type: Wait
    Name: W
    Seconds: 99
    End: true
`,
);

describe('flowrun CLI', () => {
  it('run prints the output JSON on stdout and exits 0', async () => {
    const r = await cli('run', 'flows/hello-world.yaml', '--input', '{"name":"Ada"}');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ greeting: 'Hello, Ada!' });
  });

  it('run --trace writes the event log on stderr', async () => {
    const inputFile = join(dir, 'input.json');
    writeFileSync(inputFile, '{"qty":3,"unitPrice":2,"sku":"A1"}');
    const r = await cli('run', 'flows/parallel-branches.yaml', '--input-file', inputFile, '--trace');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ total: 6, label: '3 x A1' });
    expect(r.stderr).toContain('ExecutionStarted');
    expect(r.stderr).toContain('BranchEntered FanOut [0]');
    expect(r.stderr).toContain('ExecutionSucceeded');
  });

  it('run exits 1 and prints the error code and detail when the flow fails', async () => {
    const r = await cli('run', 'flows/order-validation.yaml', '--input', '{"items":[]}');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('Failed: Order.Empty: an order needs at least one item');
  });

  it('run refuses input that is not a JSON object', async () => {
    const r = await cli('run', 'flows/hello-world.yaml', '--input', '[1]');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('must be a JSON object');
  });

  it('validate reports every problem of every file and exits 1', async () => {
    const r = await cli('validate', 'flows/hello-world.yaml', broken);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('flows/hello-world.yaml: ok');
    expect(r.stderr).toContain('/StartAt');
    expect(r.stderr).toContain('/States/0/Next');
    expect(r.stderr).toContain('/States/1/Seconds');
  });

  it('validate passes every shipped example', async () => {
    const r = await cli('validate', 'flows/hello-world.yaml', 'flows/builtins.yaml', 'flows/map-of-parallel.yaml', 'flows/retry-catch.yaml');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('test runs the shipped mocked test cases and prints a summary line', async () => {
    const r = await cli('test');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('PASS retry-catch › flaky-twice-then-ok');
    expect(r.stdout).toMatch(/^\d+ passed, 0 failed$/m);
  });

  it('test fails a wrong expectation with a readable diff', async () => {
    const config = join(dir, 'wrong.test.yaml');
    writeFileSync(
      config,
      `Flows:
  mock-task:
    TestCases:
      wrong:
        Input: { user: bob }
        MockedResponses:
          Lookup:
            Return: { user: bob, plan: free }
        ExpectedOutput: { summary: bob is on gold }
      right:
        Input: { user: amy }
        MockedResponses:
          Lookup:
            Return: { user: amy, plan: pro }
        ExpectedOutput: { summary: amy is on pro }
  retry-catch:
    TestCases:
      expects-error:
        MockedResponses:
          Flaky: { Return: { Body: { attempt: 0 } } }
          AlwaysFails: { Return: {} }
        ExpectedError: { Code: Boom }
`,
    );
    const r = await cli('test', config);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('FAIL mock-task › wrong');
    expect(r.stdout).toContain('output /summary: expected "bob is on gold", got "bob is on free"');
    expect(r.stdout).toContain('PASS mock-task › right');
    expect(r.stdout).toContain('FAIL retry-catch › expects-error');
    expect(r.stdout).toContain('expected error Boom, but the execution succeeded');
    expect(r.stdout).toContain('1 passed, 2 failed');
  });

  it('test reports an invalid mock configuration', async () => {
    const config = join(dir, 'invalid.test.yaml');
    writeFileSync(config, 'Flows:\n  x:\n    Cases: {}\n');
    const r = await cli('test', config);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`FAIL ${config}`);
    expect(r.stdout).toContain('0 passed, 1 failed');
  });
});
