/**
 * The real Alibaba Cloud client (`@alicloud/pop-core` RPCClient) against a flowrun server on a
 * loopback port, with GET (its default) and POST (form body). Signatures are not checked yet,
 * so any AccessKey works.
 */
import RPCClient from '@alicloud/pop-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../../src/api/server.js';
import type { RunningServer } from '../../src/api/server.js';
import { HELLO, silent, tempDir } from './helpers.js';

let server: RunningServer;
let client: RPCClient;
let removeDir: () => Promise<void>;

beforeAll(async () => {
  const tmp = await tempDir();
  removeDir = tmp.remove;
  server = await startServer({ port: 0, host: '127.0.0.1', flowsDir: tmp.dir, logger: silent });
  client = new RPCClient({ endpoint: server.url, apiVersion: '2019-03-15', accessKeyId: 'any-id', accessKeySecret: 'any-secret' });
});
afterAll(async () => {
  await server.close();
  await removeDir();
});

interface FlowBody {
  RequestId: string;
  Name: string;
  Id: string;
  ExecutionMode: string;
  Definition: string;
}
interface ListBody {
  Flows: FlowBody[];
  NextToken?: string;
}
interface SyncBody {
  Name: string;
  Status: string;
  Output: string;
  FlowName: string;
}

describe.each(['GET', 'POST'] as const)('pop-core RPCClient with %s', (method) => {
  const flowName = `hello-${method.toLowerCase()}`;
  const definition = HELLO.replace('Name: hello', `Name: ${flowName}`);

  it('CreateFlow', async () => {
    const body = await client.request<FlowBody>(
      'CreateFlow',
      { Name: flowName, Definition: definition, Description: 'created by pop-core', Type: 'FDL', ExecutionMode: 'Express' },
      { method },
    );
    expect(body.Name).toBe(flowName);
    expect(body.ExecutionMode).toBe('Express');
    expect(body.Definition).toBe(definition);
    expect(body.RequestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('StartSyncExecution', async () => {
    const body = await client.request<SyncBody>(
      'StartSyncExecution',
      { FlowName: flowName, ExecutionName: 'sdk', Input: JSON.stringify({ name: 'pop core & friends' }) },
      { method },
    );
    expect(body.Status).toBe('Succeeded');
    expect(body.FlowName).toBe(flowName);
    expect(body.Name).toMatch(/^sdk:[0-9a-f-]{36}$/);
    expect(JSON.parse(body.Output)).toEqual({ greeting: 'Hello, pop core & friends!' });
  });

  it('DescribeFlow', async () => {
    const body = await client.request<FlowBody>('DescribeFlow', { Name: flowName }, { method });
    expect(body.Name).toBe(flowName);
    expect(body.Id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('ListFlows', async () => {
    const body = await client.request<ListBody>('ListFlows', { Limit: 10 }, { method });
    expect(body.Flows.map((f) => f.Name)).toContain(flowName);
  });

  it('an error answer makes the client throw with the code', async () => {
    const err = (await client.request('DescribeFlow', { Name: 'no-such-flow' }, { method }).catch((e: unknown) => e)) as { code?: string; name?: string; message?: string };
    expect(err.code).toBe('FlowNotExists');
    expect(err.name).toBe('FlowNotExistsError');
    expect(err.message).toContain('Flow no-such-flow does not exist.');
  });
});
