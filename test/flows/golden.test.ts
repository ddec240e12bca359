/**
 * The conformance corpus: every flow in flows/ runs against its golden file in flows/golden/
 * (`{"input": ..., "output": ...}` or `{"input": ..., "error": {"Code": ...}}`).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { TaskRunner } from '../../src/engine/types.js';
import { FLOW_FILE_PATTERN } from '../../src/flow/catalog.js';
import { runExecution } from '../../src/interpreter/run.js';
import type { ExecutionResult } from '../../src/interpreter/run.js';
import { createRuntime } from '../../src/runtime.js';
import { ManualClock } from '../../src/shared/clock.js';
import type { JsonObject } from '../../src/shared/json.js';

const FLOWS = 'flows';
const clock = new ManualClock();
const runtime = createRuntime({ clock, functionsDir: join(FLOWS, 'functions') });
const failures = await runtime.flows.loadDirectory(FLOWS, runtime.compileOptions);
afterAll(() => runtime.close());

interface Golden {
  input: JsonObject;
  output?: JsonObject;
  error?: { Code: string; Detail?: string };
}

/** Runs with the manual clock, moving time only while no task is in flight (tasks do real I/O). */
async function runGolden(name: string, input: JsonObject): Promise<ExecutionResult> {
  const flow = runtime.flows.get(name);
  if (!flow) throw new Error(`flow ${name} did not load`);
  let inFlight = 0;
  const tasks: TaskRunner = (req) => {
    inFlight++;
    return runtime.engine.runTask(req).finally(() => inFlight--);
  };
  let result: ExecutionResult | undefined;
  const run = runExecution(flow, input, { tasks, clock, executionName: `golden-${name}` }).then((r) => (result = r));
  for (let i = 0; i < 100_000 && !result; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    const next = clock.nextDeadline();
    if (inFlight === 0 && next !== undefined) await clock.advance(Math.max(0, next - clock.now()));
  }
  return run;
}

const files = readdirSync(FLOWS).filter((f) => FLOW_FILE_PATTERN.test(f));

describe('flows/ examples', () => {
  it('all compile', () => {
    expect([...failures.entries()]).toEqual([]);
    expect(files.length).toBeGreaterThanOrEqual(10);
  });

  for (const file of files) {
    const name = file.replace(FLOW_FILE_PATTERN, '');
    it(`${name} matches its golden file`, async () => {
      const golden = JSON.parse(readFileSync(join(FLOWS, 'golden', `${name}.json`), 'utf8')) as Golden;
      const r = await runGolden(name, golden.input);
      if (golden.error) {
        expect(r.status).toBe('Failed');
        expect(r.error?.Code).toBe(golden.error.Code);
        if (golden.error.Detail !== undefined) expect(r.error?.Detail).toBe(golden.error.Detail);
      } else {
        expect(r.error).toBeUndefined();
        expect(r.status).toBe('Succeeded');
        expect(r.output).toEqual(golden.output);
      }
    });
  }
});
