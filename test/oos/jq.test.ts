import { describe, expect, it } from 'vitest';
import { jqSyntaxError, jqValues, normalizeSelector, outputFromStream, toOutputType } from '../../src/oos/index.js';

const result = {
  Instances: { Instance: [{ InstanceId: 'i-1', Status: 'Running', Cpu: 2 }, { InstanceId: 'i-2', Status: 'Stopped', Cpu: 4 }] },
  Invocation: { InvocationResults: { InvocationResult: [{ Output: Buffer.from('héllo\n').toString('base64'), ExitCode: 0 }] } },
  Count: '42',
};

describe('jq (real jq through jq-web)', () => {
  it('returns every value of the stream', () => {
    expect(jqValues('.Instances.Instance[].InstanceId', result)).toEqual(['i-1', 'i-2']);
    expect(jqValues('[.Instances.Instance[] | select(.Status == "Running") | .InstanceId]', result)).toEqual([['i-1']]);
    expect(jqValues('.Nope[]?.x', result)).toEqual([]);
    expect(jqValues('.Instances.Instance | map(.Cpu) | add', result)).toEqual([6]);
  });

  it('has jq semantics (alternative operator, keys, sort_by, UTF-8 @base64d, tonumber)', () => {
    expect(jqValues('.missing // "default"', result)).toEqual(['default']);
    expect(jqValues('.Instances.Instance[0] | keys', result)).toEqual([['Cpu', 'InstanceId', 'Status']]);
    expect(jqValues('.Instances.Instance | sort_by(-.Cpu) | .[0].InstanceId', result)).toEqual(['i-2']);
    expect(jqValues('.Invocation.InvocationResults.InvocationResult[].Output | @base64d', result)).toEqual(['héllo\n']);
    expect(jqValues('.Count | tonumber', result)).toEqual([42]);
    expect(jqValues('try error("x") catch "caught"', null)).toEqual(['caught']);
  });

  it('errors are OOS.JqError with jq’s message, and never change the process exit code', () => {
    const before = process.exitCode;
    expect(() => jqValues('.Count.x', result)).toThrow(expect.objectContaining({ code: 'OOS.JqError', message: expect.stringMatching(/Cannot index string with string "x"/) }));
    expect(() => jqValues('.a[', result)).toThrow(/syntax error/);
    expect(process.exitCode).toBe(before);
    expect(jqValues('.Count', result)).toEqual(['42']);
  });

  it('checks syntax without running the program', () => {
    expect(jqSyntaxError('.a | map(.b)')).toBeUndefined();
    expect(jqSyntaxError('repeat(.)')).toBeUndefined();
    expect(jqSyntaxError('.a # trailing comment')).toBeUndefined();
    expect(jqSyntaxError('.a[')).toMatch(/syntax error/);
    expect(jqSyntaxError('$undefined')).toMatch(/\$undefined is not defined/);
  });

  it('ValueSelectors may leave the leading dot out', () => {
    expect(normalizeSelector('Instances.Instance[].InstanceId')).toBe('.Instances.Instance[].InstanceId');
    expect(normalizeSelector('invocationOutput')).toBe('.invocationOutput');
    expect(normalizeSelector('.a')).toBe('.a');
    expect(normalizeSelector('[.a[]]')).toBe('[.a[]]');
    expect(normalizeSelector('length')).toBe('length');
    expect(normalizeSelector('map(.x)')).toBe('map(.x)');
    expect(normalizeSelector('if .a then 1 else 2 end')).toBe('if .a then 1 else 2 end');
  });

  it('selected values take the declared output Type', () => {
    expect(outputFromStream(['i-1', 'i-2'], 'List', 'o')).toEqual(['i-1', 'i-2']);
    expect(outputFromStream([['i-1', 'i-2']], 'List', 'o')).toEqual(['i-1', 'i-2']);
    expect(outputFromStream([], 'List', 'o')).toEqual([]);
    expect(outputFromStream(['x'], 'String', 'o')).toBe('x');
    expect(outputFromStream([7], 'String', 'o')).toBe('7');
    expect(outputFromStream([{ a: 1 }], 'String', 'o')).toBe('{"a":1}');
    expect(outputFromStream(['a', 'b'], 'String', 'o')).toBe('["a","b"]');
    expect(outputFromStream([], 'String', 'o')).toBeNull();
    expect(outputFromStream(['42'], 'Number', 'o')).toBe(42);
    expect(outputFromStream(['TRUE'], 'Boolean', 'o')).toBe(true);
    expect(outputFromStream([{ a: 1 }], 'Json', 'o')).toEqual({ a: 1 });
    expect(() => outputFromStream(['abc'], 'Number', 'output t.o')).toThrow(expect.objectContaining({ code: 'OOS.OutputTypeMismatch', message: expect.stringMatching(/output t.o is declared Number/) }));
    expect(toOutputType('x', 'List', 'o')).toEqual(['x']);
  });
});
