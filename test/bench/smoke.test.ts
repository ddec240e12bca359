/**
 * A smoke run of every benchmark scenario (one trial, tiny durations) so `npm run bench` never
 * rots. Nothing here asserts a speed: only that each scenario runs to the end and reports finite,
 * positive figures for flowrun, its baseline and their ratio. The HTTP scenarios run their servers
 * from the TypeScript sources (`code: 'src'`) so the suite does not build dist/.
 */
import { describe, expect, it } from 'vitest';
import { durable } from '../../bench/scenarios/durable.js';
import { fanOut } from '../../bench/scenarios/fan-out.js';
import { httpSync } from '../../bench/scenarios/http.js';
import { interpreterChain, interpreterMap } from '../../bench/scenarios/interpreter.js';
import { memoryParked } from '../../bench/scenarios/memory.js';
import { scaleOut } from '../../bench/scenarios/scale-out.js';
import type { Scenario, ScenarioOptions } from '../../bench/scenarios/types.js';

const options: ScenarioOptions = { trials: 1, ms: 300, logLevel: 'silent', code: 'src', log: () => undefined };

const positive = (n: number): boolean => Number.isFinite(n) && n > 0;

describe('benchmark scenarios (smoke: one short trial each, no timing asserted)', () => {
  const scenarios: Scenario[] = [interpreterChain, interpreterMap, httpSync, fanOut, memoryParked, scaleOut, durable];
  it.each(scenarios.map((s) => [s.name, s] as const))('%s runs and reports its figures', async (name, scenario) => {
    const results = await scenario.run(options);
    expect(results.length).toBeGreaterThan(0);
    for (const r of results) {
      expect(r.name.startsWith(name)).toBe(true);
      expect(r.flowrun.samples).toHaveLength(options.trials);
      expect(positive(r.flowrun.median), `${r.name} flowrun ${r.flowrun.median}`).toBe(true);
      expect(positive(r.baseline.median), `${r.name} baseline ${r.baseline.median}`).toBe(true);
      expect(positive(r.ratio.median), `${r.name} ratio ${r.ratio.median}`).toBe(true);
      expect(r.description).not.toBe('');
    }
  }, 180_000);
});
