/**
 * `npm run bench [-- <scenario...>] [--trials N] [--ms N]`: runs the benchmark scenarios, prints a
 * table of medians (with min and max) and ratios against the baseline measured in the same run,
 * and writes the raw figures to bench/results/.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { interpreterChain, interpreterMap } from './scenarios/interpreter.js';
import type { Scenario, ScenarioResult } from './scenarios/types.js';

const SCENARIOS: Scenario[] = [interpreterChain, interpreterMap];

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { trials: { type: 'string', default: '5' }, ms: { type: 'string', default: '1000' } },
});
const trials = Number(values.trials);
const ms = Number(values.ms);
const unknown = positionals.filter((p) => !SCENARIOS.some((s) => s.name === p));
if (unknown.length > 0 || !(trials > 0) || !(ms > 0)) {
  console.error(`usage: npm run bench -- [${SCENARIOS.map((s) => s.name).join(' | ')}] [--trials N] [--ms N]`);
  process.exit(2);
}
const selected = positionals.length > 0 ? SCENARIOS.filter((s) => positionals.includes(s.name)) : SCENARIOS;

const fmt = (n: number): string => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2));
const results: ScenarioResult[] = [];
for (const scenario of selected) {
  process.stderr.write(`running ${scenario.name} (${trials} trials x ${ms} ms)...\n`);
  const r = await scenario.run({ trials, ms });
  results.push(r);
}

console.log(`\n| scenario | flowrun ${'median [min–max]'} | baseline | baseline median [min–max] | ratio median [min–max] |`);
console.log('|---|---|---|---|---|');
for (const r of results) {
  console.log(
    `| ${r.name} (${r.unit}) | ${fmt(r.flowrun.median)} [${fmt(r.flowrun.min)}–${fmt(r.flowrun.max)}] | ${r.baseline.name} | ${fmt(r.baseline.median)} [${fmt(r.baseline.min)}–${fmt(r.baseline.max)}] | **${r.ratio.median.toFixed(1)}x** [${r.ratio.min.toFixed(1)}–${r.ratio.max.toFixed(1)}] |`,
  );
  if (r.extra) console.log(`|   ${Object.entries(r.extra).map(([k, v]) => `${k}: ${typeof v === 'number' ? fmt(v) : v}`).join(', ')} | | | | |`);
}

const date = new Date().toISOString();
const report = {
  date,
  node: process.version,
  machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memoryBytes: totalmem(), platform: process.platform, arch: process.arch },
  options: { trials, ms },
  results,
};
const dir = join('bench', 'results');
mkdirSync(dir, { recursive: true });
const file = join(dir, `bench-${date.replace(/[:.]/g, '-')}.json`);
writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
console.log(`\nraw figures: ${file}`);
