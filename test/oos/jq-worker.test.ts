/**
 * jq-web runs in a worker thread with a time limit: a program that never ends fails with
 * OOS.JqError "timed out" instead of blocking the event loop, too large an output fails clearly,
 * and the next call works (on a fresh worker).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_JQ_TIMEOUT_MS, JQ_OUTPUT_LIMIT_BYTES, jqSyntaxError, jqTimeoutMs, jqValues, setJqTimeoutMs } from '../../src/engine/actions/jq.js';

afterEach(() => {
  setJqTimeoutMs(undefined);
});

describe('jq-web in a worker, with a time limit', () => {
  it.each(['[range(1e12)]', 'repeat(1)', 'def f: f; f', 'last(range(1e12))', '[limit(1e12; repeat(.))]'])('%s times out, and the next call works', (filter) => {
    setJqTimeoutMs(200);
    const before = process.exitCode;
    expect(() => jqValues(filter, { a: 1 })).toThrow(
      expect.objectContaining({ code: 'OOS.JqError', retryable: false, message: `jq ${JSON.stringify(filter)}: timed out after 200 ms` }),
    );
    expect(jqValues('.a + 1', { a: 1 })).toEqual([2]);
    expect(process.exitCode).toBe(before);
  });

  it('a too large output is a clear OOS.JqError; just under the limit is fine', () => {
    setJqTimeoutMs(60_000);
    expect(JQ_OUTPUT_LIMIT_BYTES).toBe(8 * 1024 * 1024);
    expect(() => jqValues('"x" * 9000000', null)).toThrow(
      expect.objectContaining({ code: 'OOS.JqError', message: 'jq "\\"x\\" * 9000000": output is 9000002 bytes, more than the 8 MiB limit of a jq result' }),
    );
    // jq's -c text of the string: 8,388,606 characters and 2 quotes = exactly 8 MiB.
    const [big] = jqValues('"x" * 8388606', null) as [string];
    expect(big).toHaveLength(8388606);
    expect(jqValues('[.[] | . * 2]', [1, 2])).toEqual([[2, 4]]);
  });

  it('errors keep jq’s message and never change the process exit code', () => {
    const before = process.exitCode;
    expect(() => jqValues('.a | tonumber', { a: 'x' })).toThrow(expect.objectContaining({ code: 'OOS.JqError', message: `jq ".a | tonumber": Invalid numeric literal at EOF at line 1, column 1 (while parsing 'x')` }));
    expect(() => jqValues('error("boom")', null)).toThrow(expect.objectContaining({ code: 'OOS.JqError', message: 'jq "error(\\"boom\\")": boom' }));
    expect(() => jqValues('map(', null)).toThrow(expect.objectContaining({ code: 'OOS.JqError', message: expect.stringMatching(/^jq "map\(": syntax error/) }));
    expect(process.exitCode).toBe(before);
    expect(jqValues('[.[] | select(. > 1)]', [1, 2, 3])).toEqual([[2, 3]]);
  });

  it('checks syntax without running the program (never times out on a program that would not end)', () => {
    setJqTimeoutMs(200);
    expect(jqSyntaxError('[range(1e12)]')).toBeUndefined();
    expect(jqSyntaxError('def f: f; f')).toBeUndefined();
    expect(jqSyntaxError('repeat(.)')).toBeUndefined();
    expect(jqSyntaxError('.a | map(')).toMatch(/syntax error/);
    expect(jqSyntaxError('$undefined')).toMatch(/\$undefined is not defined/);
  });

  it('the time limit: a setter, else env FLOWRUN_JQ_TIMEOUT_MS, else 1,000 ms', () => {
    const saved = process.env.FLOWRUN_JQ_TIMEOUT_MS;
    try {
      delete process.env.FLOWRUN_JQ_TIMEOUT_MS;
      expect(jqTimeoutMs()).toBe(DEFAULT_JQ_TIMEOUT_MS);
      expect(DEFAULT_JQ_TIMEOUT_MS).toBe(1000);
      process.env.FLOWRUN_JQ_TIMEOUT_MS = '150';
      expect(jqTimeoutMs()).toBe(150);
      expect(() => jqValues('repeat(1)', null)).toThrow(/timed out after 150 ms/);
      process.env.FLOWRUN_JQ_TIMEOUT_MS = 'soon';
      expect(jqTimeoutMs()).toBe(1000);
      setJqTimeoutMs(250);
      expect(jqTimeoutMs()).toBe(250);
      expect(() => setJqTimeoutMs(0)).toThrow(RangeError);
      expect(() => setJqTimeoutMs(Number.NaN)).toThrow(RangeError);
    } finally {
      if (saved === undefined) delete process.env.FLOWRUN_JQ_TIMEOUT_MS;
      else process.env.FLOWRUN_JQ_TIMEOUT_MS = saved;
    }
  });

  it('works under tsx and the worker does not keep the process alive', () => {
    const script = `
      import { jqValues, setJqTimeoutMs } from './src/engine/actions/jq.ts';
      setJqTimeoutMs(200);
      const out = [jqValues('[.a, .a + 1]', { a: 1 })];
      try { jqValues('repeat(1)', null); } catch (e) { out.push(e.message); }
      out.push(jqValues('.a * 2', { a: 2 }), process.exitCode ?? null);
      console.log(JSON.stringify(out));`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: fileURLToPath(new URL('../..', import.meta.url)), encoding: 'utf8', timeout: 30_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([[[1, 2]], 'jq "repeat(1)": timed out after 200 ms', [4], null]);
  });
});
