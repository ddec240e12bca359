import { describe, expect, it } from 'vitest';
import { locatePointer, MAX_DEFINITION_BYTES, parseDefinitionText, withPositions } from '../../src/flow/parse.js';
import type { ParseResult, Problem } from '../../src/flow/parse.js';
import { formatProblems, validateDefinition } from '../../src/flow/validate.js';

const YAML_FLOW = `Type: StateMachine
Name: hello-world
SpecVersion: v1
StartAt: Greet
States:
  - Type: Pass
    Name: Greet
    End: true
`;

const expected = {
  Type: 'StateMachine',
  Name: 'hello-world',
  SpecVersion: 'v1',
  StartAt: 'Greet',
  States: [{ Type: 'Pass', Name: 'Greet', End: true }],
};

function problemsOf(result: ParseResult): Problem[] {
  if (result.ok) throw new Error(`expected a parse failure, got ${JSON.stringify(result.document)}`);
  return result.problems;
}

describe('parseDefinitionText', () => {
  it('parses YAML', () => {
    expect(parseDefinitionText(YAML_FLOW, 'flow.yaml')).toEqual({ ok: true, document: expected });
  });

  it('parses JSON, including tab-indented JSON', () => {
    expect(parseDefinitionText(JSON.stringify(expected, null, 2), 'flow.json')).toEqual({ ok: true, document: expected });
    expect(parseDefinitionText(JSON.stringify(expected, null, '\t'))).toEqual({ ok: true, document: expected });
  });

  it('uses the YAML 1.2 core schema (yes/no and 012 stay what JSON would make of them)', () => {
    const result = parseDefinitionText('a: yes\nb: 012\nc: 0x1F\nd: true\ne: null\nf: "2"\n');
    expect(result).toEqual({ ok: true, document: { a: 'yes', b: 12, c: 31, d: true, e: null, f: '2' } });
  });

  it('accepts a byte-order mark', () => {
    expect(parseDefinitionText(`\uFEFF${YAML_FLOW}`)).toEqual({ ok: true, document: expected });
  });

  it('reports syntax errors with line and column', () => {
    const problems = problemsOf(parseDefinitionText('Type: StateMachine\nStates: [a, b\nStartAt: x\n', 'flow.yaml'));
    expect(problems.length).toBeGreaterThan(0);
    const first = problems[0];
    expect(first?.message).toMatch(/^YAML syntax error: /);
    expect(first?.line).toBe(3);
    expect(first?.column).toBe(1);
  });

  it('reports JSON syntax errors with line and column', () => {
    const problems = problemsOf(parseDefinitionText('{\n  "Type": "StateMachine",\n  "States": [1, 2,, 3]\n}', 'flow.json'));
    expect(problems[0]?.message).toContain('syntax error');
    expect(problems[0]?.line).toBe(3);
    expect(problems[0]?.column).toBeGreaterThan(1);
  });

  it('refuses duplicate keys, naming the key and where it is', () => {
    const text = 'Type: StateMachine\nStates:\n  - Name: A\n    Type: Pass\n    Name: B\n';
    const problems = problemsOf(parseDefinitionText(text));
    expect(problems).toEqual([{ pointer: '/States/0/Name', message: "duplicate key 'Name': a key may appear only once in a mapping", line: 5, column: 5 }]);
  });

  it('refuses duplicate keys in JSON too', () => {
    const problems = problemsOf(parseDefinitionText('{"Type": "StateMachine", "Type": "Flow"}'));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ pointer: '/Type', message: expect.stringContaining("duplicate key 'Type'"), line: 1, column: 26 });
  });

  it('refuses an empty document', () => {
    for (const text of ['', '   \n', '# just a comment\n']) {
      const problems = problemsOf(parseDefinitionText(text, 'flow.yaml'));
      expect(problems).toEqual([{ pointer: '', message: expect.stringContaining('flow.yaml is empty') }]);
    }
    expect(problemsOf(parseDefinitionText('null\n'))[0]?.message).toContain('empty (null)');
  });

  it(`refuses texts over ${MAX_DEFINITION_BYTES} bytes`, () => {
    expect(MAX_DEFINITION_BYTES).toBe(1024 * 1024);
    const big = `Description: "${'x'.repeat(MAX_DEFINITION_BYTES)}"\n`;
    const problems = problemsOf(parseDefinitionText(big));
    expect(problems).toEqual([{ pointer: '', message: expect.stringContaining('larger than 1048576 bytes (1 MiB)') }]);
    // Multi-byte characters count as bytes, not characters.
    const wide = `a: "${'é'.repeat(MAX_DEFINITION_BYTES / 2)}"`;
    expect(wide.length).toBeLessThan(MAX_DEFINITION_BYTES);
    expect(problemsOf(parseDefinitionText(wide))[0]?.message).toContain('1 MiB');
    // Just under the limit parses.
    const fits = `a: "${'x'.repeat(MAX_DEFINITION_BYTES - 10)}"`;
    expect(parseDefinitionText(fits).ok).toBe(true);
  });

  it('refuses several documents in one text', () => {
    const problems = problemsOf(parseDefinitionText(`${YAML_FLOW}---\nType: StateMachine\n`));
    expect(problems[0]?.message).toContain('more than one YAML document');
    expect(problems[0]?.line).toBe(9);
  });

  it('refuses unknown tags and values JSON cannot hold', () => {
    const tag = problemsOf(parseDefinitionText('Name: !Ref FlowName\n'));
    expect(tag).toEqual([expect.objectContaining({ message: expect.stringContaining('unknown tag: !Ref'), line: 1, column: 7 })]);
    const values = problemsOf(parseDefinitionText('a: .inf\nb: !!binary aGVsbG8=\n'));
    expect(values).toEqual([
      expect.objectContaining({ pointer: '/a', message: 'Infinity is not a JSON number', line: 1 }),
      expect.objectContaining({ pointer: '/b', message: expect.stringContaining('binary data'), line: 2 }),
    ]);
    const keys = problemsOf(parseDefinitionText('? [a, b]\n: c\n'));
    expect(keys[0]?.message).toContain('mapping keys must be plain strings');
  });

  it('refuses unresolvable aliases instead of throwing', () => {
    const problems = problemsOf(parseDefinitionText('a: *nothing\n'));
    expect(problems[0]?.message).toMatch(/alias/i);
  });

  it('expands aliases', () => {
    expect(parseDefinitionText('base: &b {x: 1}\ncopy: *b\n')).toEqual({ ok: true, document: { base: { x: 1 }, copy: { x: 1 } } });
  });
});

describe('positions of validation problems', () => {
  const text = `Type: StateMachine
SpecVersion: v1
StartAt: A
States:
  - Name: A
    Type: Pass
    Next: Missing
  - Name: B
    Type: Wait
    Seconds: 99
    End: true
`;
  it('locatePointer finds keys and list items, falling back to the nearest ancestor', () => {
    expect(locatePointer(text, '/States/0/Next')).toEqual({ line: 7, column: 5 });
    expect(locatePointer(text, '/States/1')).toEqual({ line: 8, column: 5 });
    expect(locatePointer(text, '/StartAt')).toEqual({ line: 3, column: 1 });
    expect(locatePointer(text, '/States/1/Nope')).toEqual({ line: 8, column: 5 });
    expect(locatePointer(text, '')).toEqual({ line: 1, column: 1 });
    expect(locatePointer('a: [1,', '/a')).toBeUndefined();
  });

  it('withPositions adds line:column to validation problems for formatProblems', () => {
    const parsed = parseDefinitionText(text, 'flow.yaml');
    if (!parsed.ok) throw new Error('parse failed');
    const problems = withPositions(validateDefinition(parsed.document), text);
    const lines = formatProblems(problems, 'flow.yaml').split('\n');
    expect(lines).toContain("flow.yaml:7:5: /States/0/Next: no state named 'Missing' in the top level (states here: A, B)");
    expect(lines.some((l) => l.startsWith('flow.yaml:10:5: /States/1/Seconds: must be between 1 and 20 seconds in Express flows'))).toBe(true);
    expect(lines.some((l) => l.startsWith("flow.yaml:8:5: /States/1: state 'B' is never reached from StartAt"))).toBe(true);
    expect(lines).toHaveLength(3);
  });
});
