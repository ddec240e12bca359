import type { Summary } from '../stats.js';

export interface ScenarioOptions {
  /** Repetitions; the median is the headline. */
  trials: number;
  /** Length of one measurement in ms (scenarios that do a fixed amount of work ignore it). */
  ms: number;
  /** Log level of the benchmark servers (HTTP scenarios). */
  logLevel: string;
  /** When set, the servers of the http-sync scenario run with `--cpu-prof` writing here. */
  cpuProfDir?: string;
  /**
   * Where the http-sync and scale-out servers load flowrun's code from: `dist` (built first with
   * `npm run build`) or `src` (the TypeScript sources through tsx). Both servers alike.
   */
  code: 'dist' | 'src';
  /** Progress messages (stderr). */
  log(message: string): void;
}

/** What a headline ratio should reach. */
export interface Goal {
  /** `>=`: the ratio should be at least `value`; `<=`: at most. */
  op: '>=' | '<=';
  value: number;
  /** The figure the goal applies to, when it is not the ratio (e.g. `flowrun median (KB)`). */
  on?: 'ratio' | 'flowrun';
}

export interface ScenarioResult {
  name: string;
  description: string;
  unit: string;
  flowrun: Summary;
  baseline: Summary & { name: string };
  /** flowrun / baseline, per trial. */
  ratio: Summary;
  goal?: Goal;
  extra?: Record<string, number | string>;
}

export interface Scenario {
  name: string;
  /** Trials and measurement length when `--trials`/`--ms` are not given. */
  defaults: { trials: number; ms: number };
  /** One or more table rows. */
  run(options: ScenarioOptions): Promise<ScenarioResult[]>;
}

/** Whether a result meets its goal (undefined: no goal). */
export function goalMet(r: ScenarioResult): boolean | undefined {
  if (!r.goal) return undefined;
  const figure = r.goal.on === 'flowrun' ? r.flowrun.median : r.ratio.median;
  return r.goal.op === '>=' ? figure >= r.goal.value : figure <= r.goal.value;
}
