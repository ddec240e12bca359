/** `flowrun serve` serves the OOS API (2019-06-01) with flows/templates and its local fixtures. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startServer } from '../../src/api/server.js';
import type { RunningServer } from '../../src/api/server.js';
import { silent } from './helpers.js';

let server: RunningServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function rpc(action: string, params: Record<string, string>): Promise<Record<string, unknown>> {
  const body = new URLSearchParams({ Action: action, Version: '2019-06-01', ...params });
  const res = await fetch(`${server?.url ?? ''}/`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
  return (await res.json()) as Record<string, unknown>;
}

describe('OOS on the served API', () => {
  it('lists the templates of flows/templates and runs one to Success against the fixtures', async () => {
    server = await startServer({ port: 0, flowsDir: 'flows', logger: silent });
    const listed = await rpc('ListTemplates', {});
    const names = (listed['Templates'] as { TemplateName: string }[]).map((t) => t.TemplateName).sort();
    expect(names).toEqual(['CDN-SetDomainServerCertificate', 'ECS-ApproveBulkyRunCommand', 'ECS-BulkyRunCommand']);

    const started = await rpc('StartExecution', { TemplateName: 'CDN-SetDomainServerCertificate', Parameters: JSON.stringify({ domainName: 'plain.example.com' }) });
    const execution = started['Execution'] as { ExecutionId: string; Status: string };
    expect(execution.Status).toBe('Started');
    await vi.waitFor(async () => {
      const got = await rpc('ListExecutions', { ExecutionId: execution.ExecutionId });
      const [e] = got['Executions'] as { Status: string }[];
      expect(e?.Status).toBe('Success');
    });

    const missing = await rpc('StartExecution', { TemplateName: 'CDN-SetDomainServerCertificate', Parameters: '{}' });
    expect(missing['Code']).toBe('MissingExecutionParameter');
  });
});
