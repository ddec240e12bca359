import type { Summary } from '../stats.js';

export interface ScenarioOptions {
  /** Repetitions; the median is the headline. */
  trials: number;
  /** Length of one measurement in ms. */
  ms: number;
}

export interface ScenarioResult {
  name: string;
  description: string;
  unit: string;
  flowrun: Summary;
  baseline: Summary & { name: string };
  /** flowrun / baseline, per trial. */
  ratio: Summary;
  extra?: Record<string, number | string>;
}

export interface Scenario {
  name: string;
  run(options: ScenarioOptions): Promise<ScenarioResult>;
}
