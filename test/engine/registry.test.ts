import { describe, expect, it } from 'vitest';
import { ActionRegistry, createTaskEngine } from '../../src/engine/index.js';
import type { ActionDefinition } from '../../src/engine/index.js';

const engine = createTaskEngine({ functionsDir: 'flows/functions' });
const registry = engine.registry;

describe('ActionRegistry', () => {
  it('lists the built-in actions', () => {
    expect(registry.names()).toEqual(['FC:InvokeFunction', 'FnF:StartSyncExecution', 'HTTP:Request', 'Mock']);
    expect(registry.has('HTTP:Request')).toBe(true);
    expect(registry.get('Nope')).toBeUndefined();
  });

  it('refuses a duplicate name and an invalid schema', () => {
    const r = new ActionRegistry();
    const def: ActionDefinition = { name: 'X:Y', description: '', parametersSchema: { type: 'object' }, highRisk: false, run: async () => ({}) };
    r.register(def);
    expect(() => r.register(def)).toThrow(/already registered/);
    expect(() => r.register({ ...def, name: 'X:Z', parametersSchema: { type: 'nonsense' } })).toThrow(/invalid parameters schema/);
  });
});

describe('checkParameters', () => {
  it('accepts a valid template', () => {
    expect(registry.checkParameters('HTTP:Request', { method: 'POST', url: 'https://example.com/x', body: { a: 1 } })).toEqual([]);
  });

  it('reports a typo with its pointer and a suggestion', () => {
    const problems = registry.checkParameters('HTTP:Request', { urll: 'https://example.com' });
    expect(problems).toHaveLength(2);
    expect(problems).toContain(
      "Parameter /urll is not accepted by HTTP:Request (accepted: method, url, headers, query, body, timeoutSeconds). Did you mean 'url'?",
    );
    expect(problems).toContain('Parameter /url is required by HTTP:Request.');
  });

  it('accepts dynamic keys whatever the schema says about their type', () => {
    expect(registry.checkParameters('HTTP:Request', { 'url.$': '$Input.url', 'timeoutSeconds.$': '$Input.t' })).toEqual([]);
    expect(registry.checkParameters('HTTP:Request', { url: 'http://x', headers: { 'Authorization.$': '$Input.token' } })).toEqual([]);
    expect(registry.checkParameters('FC:InvokeFunction', { 'resourceArn.$': '$Input.arn', body: { 'id.$': '$Input.id' } })).toEqual([]);
  });

  it('reports a typo in a dynamic key, spelled as in the template', () => {
    expect(registry.checkParameters('HTTP:Request', { url: 'http://x', 'metod.$': '$Input.m' })).toEqual([
      "Parameter /metod.$ is not accepted by HTTP:Request (accepted: method, url, headers, query, body, timeoutSeconds). Did you mean 'method'?",
    ]);
  });

  it('reports constant values of the wrong type or shape', () => {
    expect(registry.checkParameters('HTTP:Request', { url: 'ftp://x', method: 'FETCH', timeoutSeconds: 'soon' })).toEqual([
      'Parameter /method must be one of "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS".',
      'Parameter /url must match pattern "^[Hh][Tt][Tt][Pp][Ss]?://".',
      'Parameter /timeoutSeconds must be number.',
    ]);
    expect(registry.checkParameters('HTTP:Request', { url: 'http://x', headers: { 'X-N': { a: 1 } } })).toEqual([
      'Parameter /headers/X-N must be string or number or boolean.',
    ]);
  });

  it('reports a key given both statically and dynamically, and a non-string expression', () => {
    expect(registry.checkParameters('HTTP:Request', { url: 'http://x', 'url.$': '$Input.u' })).toEqual([
      "Parameter /url is given twice (as 'url' and 'url.$').",
    ]);
    expect(registry.checkParameters('HTTP:Request', { 'url.$': 42 })).toEqual([
      "Parameter /url.$ must be an expression string (a '.$' key holds an expression).",
    ]);
  });

  it('explains anyOf failures with the schema message', () => {
    expect(registry.checkParameters('FC:InvokeFunction', { body: {} })).toEqual([
      'Parameters of FC:InvokeFunction need functionName or resourceArn.',
    ]);
    expect(registry.checkParameters('FC:InvokeFunction', { functionName: 'greet', invocationType: 'Async' })).toEqual([
      'Parameter /invocationType must be one of "Sync".',
    ]);
  });

  it('checks nested objects of Mock and FnF:StartSyncExecution', () => {
    expect(registry.checkParameters('Mock', { error: { Cod: 'X' } })).toEqual([
      'Parameter /error/Code is required by Mock.',
      "Parameter /error/Cod is not accepted by Mock (accepted: Code, Detail, Retryable). Did you mean 'Code'?",
    ]);
    expect(registry.checkParameters('FnF:StartSyncExecution', { 'flowName.$': '$Input.f', input: [] })).toEqual([
      'Parameter /input must be object.',
    ]);
    expect(registry.checkParameters('Mock', [])).toEqual(['Parameters of Mock must be object.']);
  });

  it('reports an unknown action with the known ones', () => {
    expect(registry.checkParameters('HTTP:Reqest', {})).toEqual([
      "unknown action 'HTTP:Reqest'; known actions: FC:InvokeFunction, FnF:StartSyncExecution, HTTP:Request, Mock.",
    ]);
  });
});
