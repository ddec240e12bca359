import { describe, expect, it } from 'vitest';
import { compileCondition, compileExpression, ExpressionSyntaxError } from '../../src/flow/expr/index.js';
import { syntaxError } from './helpers.js';

/** Asserts the error's position, that its message names the column, and that it contains every fragment. */
function expectError(source: string, position: number, ...fragments: string[]): ExpressionSyntaxError {
  const err = syntaxError(source);
  expect(err).toBeInstanceOf(Error);
  expect(err.name).toBe('ExpressionSyntaxError');
  expect(err.position).toBe(position);
  expect(err.message).toContain(`Column ${position + 1}:`);
  expect(err.message).toContain(source.length > 100 ? '…' : source);
  for (const f of fragments) expect(err.message).toContain(f);
  return err;
}

describe('compile-time errors', () => {
  it('unterminated strings', () => {
    expectError('$Input.a == "abc', 12, 'Unterminated string', 'the " opened here');
    expectError("format('x", 7, 'Unterminated string', "the ' opened here");
    expectError('`abc', 0, 'Unterminated string');
    expectError('"abc\\', 0, 'Unterminated string');
  });

  it('bad escapes and numbers', () => {
    expectError('"a\\qb"', 2, 'Unknown escape sequence "\\q"');
    expectError('"\\u12"', 1, '4 hexadecimal digits');
    expectError('1.', 2, 'digit must follow the decimal point');
    expectError('1e', 2, 'exponent');
    expectError('12abc', 0, '"12abc" is not a valid number');
  });

  it('unknown functions, with a suggestion when one is close', () => {
    expectError('lenght($Input.a)', 0, 'Unknown function "lenght"', 'did you mean "length"?');
    expectError('1 + ArrayUnique([1])', 4, 'Unknown function "ArrayUnique"', 'did you mean "arrayUnique"?');
    const err = expectError('frobnicate()', 0, 'Unknown function "frobnicate"');
    expect(err.message).not.toContain('did you mean');
  });

  it('wrong argument counts', () => {
    expectError('length()', 0, 'length takes exactly 1 argument but was given 0', 'usage: length(array | map | string)');
    expectError('$Input.a && split("a")', 12, 'split takes exactly 2 arguments but was given 1');
    expectError('format()', 0, 'format takes at least 1 argument but was given 0');
    expectError('uuid(1)', 0, 'uuid takes exactly 0 arguments but was given 1');
  });

  it('function nesting deeper than 10 levels', () => {
    const ok = `${'toArray('.repeat(10)}1${')'.repeat(10)}`;
    expect(() => compileExpression(ok)).not.toThrow();
    const eleven = `${'toArray('.repeat(11)}1${')'.repeat(11)}`;
    expectError(eleven, 80, 'nested more than 10 levels deep', 'toArray');
    // Siblings do not add up: only depth counts.
    const wide = `toArray(${Array.from({ length: 12 }, () => 'length("a")').join(', ')})`;
    expect(() => compileExpression(wide)).not.toThrow();
  });

  it('$Output where it is not allowed', () => {
    const err = syntaxError('$Input.a == $Output.b', {});
    expect(err.position).toBe(12);
    expect(err.message).toContain('Column 13:');
    expect(err.message).toContain('$Output is only available in OutputConstructor and GlobalConstructor');
    expect(() => compileCondition('$Output.b == 1')).toThrow(ExpressionSyntaxError);
    expect(() => compileExpression('$Output.b', { allowOutput: true })).not.toThrow();
    // $Context.Current.Output is a plain path and always allowed.
    expect(() => compileExpression('$Context.Current.Output.x')).not.toThrow();
  });

  it('unknown roots and bare names', () => {
    expectError('$Foo.bar', 0, 'Unknown variable "$Foo"', '$Input, $Output, $Global or $Context');
    expectError('1 + $input.x', 4, 'did you mean "$Input"?');
    expectError('$Globals.x', 0, 'did you mean "$Global"?');
    expectError('status == "ok"', 0, 'Unknown name "status"', '$Input.status');
  });

  it('trailing garbage', () => {
    expectError('$Input.a == 1 2', 14, 'Unexpected number 2 after the end of a complete expression');
    expectError('$Input.a )', 9, 'Unexpected ")"');
    expectError('"a" "b"', 4, 'Unexpected string "b"');
    expectError('$Input.a $Input.b', 9, 'Unexpected path $Input.b');
  });

  it('missing operands and unbalanced brackets', () => {
    expectError('', 0, 'The expression is empty');
    expectError('   ', 0, 'The expression is empty');
    expectError('1 +', 2, 'The operator "+" has nothing on its right');
    expectError('(1 + 2', 6, 'Expected ")" to close the "(" at column 1');
    expectError('[1, 2', 5, 'Expected "]" to close the array started at column 1');
    expectError('{"a": 1', 7, 'Expected "}" to close the map started at column 1');
    expectError('{1: 2}', 1, 'Expected a key');
    expectError('{"a" 1}', 5, 'Expected ":" after the map key "a"');
    expectError('{"a": 1, "a": 2}', 9, 'The key "a" appears twice');
    expectError('length("a"', 10, 'Expected ")" to close the arguments of length(...)');
    expectError('* 2', 0, 'Unexpected "*"; expected a value');
  });

  it('operator typos', () => {
    expectError('$Input.a = 1', 9, 'use "==" to compare');
    expectError('$Input.a === 1', 9, '"===" is not an operator; use "=="');
    expectError('true & false', 5, 'use "&&"');
    expectError('true | false', 5, 'use "||"');
    expectError('1 # 2', 2, 'Unexpected character "#"');
    expectError('in [1]', 0, 'Unexpected "in"');
  });

  it('malformed paths', () => {
    expectError('$Input.', 7, 'Expected a property name after "."', 'found the end of the expression');
    expectError('$Input.a.-b', 9, 'Expected a property name after "."', '"-"');
    expectError('$Input.a[', 8, 'Unclosed "["');
    expectError('$Input.a[]', 8, 'Empty brackets');
    expectError('$Input.a[0)', 10, 'Unexpected ")" in a path');
    expectError('split("a,b", ",").x', 17, 'use get(value, "key")');
  });

  it('constant sub-expressions that would always fail', () => {
    expectError('-"a"', 0, 'always fails', 'needs a number, but got string');
    expectError('$Input.a + 1 / 0', 13, 'always fails', 'division by zero');
    expectError('stringToJson("{")', 0, 'always fails', 'stringToJson: the string is not valid JSON');
  });

  it('quotes long sources around the problem', () => {
    const long = `${'$Input.a + '.repeat(40)}@`;
    const err = syntaxError(long);
    expect(err.position).toBe(long.length - 1);
    expect(err.message).toContain('Unexpected character "@"');
    expect(err.message).toContain('…');
    expect(err.message.length).toBeLessThan(300);
  });

  it('rejects extremely deep parentheses instead of overflowing the stack', () => {
    const deep = `${'('.repeat(5000)}1${')'.repeat(5000)}`;
    const err = syntaxError(deep);
    expect(err.message).toContain('nested more than 200 levels deep');
  });
});
