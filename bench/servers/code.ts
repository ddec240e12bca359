/**
 * Where the benchmark servers load flowrun's code from: `dist` (the compiled JavaScript of
 * `npm run build`, what `flowrun serve` runs when installed) or `src` (the TypeScript sources,
 * through the tsx loader every benchmark child is started with). Both HTTP servers load it the
 * same way, chosen by `--code dist|src` or BENCH_CODE (default `src` for a server started by
 * hand); `npm run bench` sets BENCH_CODE to `dist`, or to `src` with `--source`.
 */
import { option } from './announce.js';

export type CodeDir = 'dist' | 'src';

export function codeDir(): CodeDir {
  const dir = option('code', 'BENCH_CODE', 'src');
  if (dir !== 'dist' && dir !== 'src') throw new Error(`--code must be dist or src, not '${dir}'`);
  return dir;
}

/**
 * Imports the flowrun module `path` (relative to src/, with its `.js` name) from the chosen code
 * folder; tsx maps `src/….js` to the `.ts` source.
 */
export async function importFlowrun<T>(path: string): Promise<T> {
  return (await import(new URL(`../../${codeDir()}/${path}`, import.meta.url).href)) as T;
}
