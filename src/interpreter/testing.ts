/**
 * Mocked test runs for flow authors (`flowrun test`): each test case of a mock configuration runs
 * its flow with Task states answered from the case's MockedResponses, on a manual clock (Wait
 * states and retry back-off take no real time), and is compared with its expectation.
 */
import { createMockTaskRunner, diffJson, listTestCases } from '../engine/mock-config.js';
import type { MockConfig, MockTestCase } from '../engine/mock-config.js';
import type { CompiledFlow } from '../flow/graph.js';
import { ManualClock } from '../shared/clock.js';
import type { Json } from '../shared/json.js';
import { runExecution } from './run.js';
import type { ExecutionResult } from './run.js';

export interface TestCaseResult {
  flowName: string;
  caseName: string;
  passed: boolean;
  /** Why it failed, one readable line each. */
  problems: string[];
  result?: ExecutionResult;
}

/** Upper bound on manual-clock moves for one test case (a flow that waits forever stops here). */
export const MAX_CLOCK_MOVES = 100_000;

export async function runTestCase(flow: CompiledFlow, caseName: string, testCase: MockTestCase): Promise<TestCaseResult> {
  const clock = new ManualClock();
  const tasks = createMockTaskRunner(testCase);
  let result: ExecutionResult | undefined;
  const run = runExecution(flow, testCase.Input ?? {}, { tasks, clock, executionName: `test-${caseName}` }).then((r) => (result = r));
  for (let i = 0; i < MAX_CLOCK_MOVES && !result; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    const next = clock.nextDeadline();
    if (next !== undefined && !result) await clock.advance(Math.max(0, next - clock.now()));
  }
  const r = await run;
  return { flowName: flow.name, caseName, ...judge(testCase, r), result: r };
}

function judge(testCase: MockTestCase, r: ExecutionResult): { passed: boolean; problems: string[] } {
  const problems: string[] = [];
  const failure = r.error ? `${r.status}: ${r.error.Code}: ${r.error.Detail}` : r.status;
  if (testCase.ExpectedError) {
    if (r.status === 'Succeeded') problems.push(`expected error ${testCase.ExpectedError.Code}, but the execution succeeded with ${JSON.stringify(r.output)}`);
    else {
      if (r.error?.Code !== testCase.ExpectedError.Code) problems.push(`expected error ${testCase.ExpectedError.Code}, got ${failure}`);
      if (testCase.ExpectedError.Detail !== undefined && r.error?.Detail !== testCase.ExpectedError.Detail) {
        problems.push(`expected detail ${JSON.stringify(testCase.ExpectedError.Detail)}, got ${JSON.stringify(r.error?.Detail)}`);
      }
    }
  } else if (r.status !== 'Succeeded') {
    problems.push(`expected success, got ${failure}`);
  } else if (testCase.ExpectedOutput !== undefined) {
    problems.push(...diffJson(testCase.ExpectedOutput, (r.output ?? {}) as Json).map((d) => `output ${d}`));
  }
  return { passed: problems.length === 0, problems };
}

/** Runs every case of a configuration; flows are looked up by name. */
export async function runMockConfig(config: MockConfig, lookup: (flowName: string) => CompiledFlow | undefined): Promise<TestCaseResult[]> {
  const results: TestCaseResult[] = [];
  for (const { flowName, caseName, testCase } of listTestCases(config)) {
    const flow = lookup(flowName);
    if (!flow) {
      results.push({ flowName, caseName, passed: false, problems: [`no flow named '${flowName}'`] });
      continue;
    }
    results.push(await runTestCase(flow, caseName, testCase));
  }
  return results;
}
