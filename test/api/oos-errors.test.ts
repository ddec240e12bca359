/**
 * The OOS error codes: every one produced over HTTP at least once (a table keyed by code, so a new
 * OOS code fails to compile until it has a case), and the catalog checked against the error tables
 * of seeds 000–003 (NotifyExecution, StartExecution, CancelExecution, ListResourceExecutionStatus).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import request from 'supertest';
import type { Response } from 'supertest';
import type { Express } from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { API_ERRORS, apiError, isApiErrorCode } from '../../src/api/errors.js';
import type { ApiErrorCode, OosApiErrorCode } from '../../src/api/errors.js';
import { OosExecutionErrorCodes } from '../../src/executions/oos/index.js';
import { FlowService } from '../../src/fnf/service.js';
import { oos, OosWorld, silent } from '../oos-executions/helpers.js';
import type { OosNode } from '../oos-executions/helpers.js';

const SLEEPY = `
FormatVersion: OOS-2019-06-01
Parameters:
  minutes: { Type: Number, Default: 60 }
Tasks:
  - Name: nap
    Action: ACS::Sleep
    Properties: { Duration: 'PT{{ minutes }}M' }
`;

let world: OosWorld;
let node: OosNode;
let app: Express;

beforeAll(async () => {
  world = new OosWorld();
  node = await world.node({ maxRunningExecutions: 1 });
  const service = new FlowService({ runtime: node.runtime, logger: silent });
  app = createApp({
    service,
    oos: node.oos,
    logger: silent,
    // stands in for request signing: refuses with the code named in a header
    authenticate: ({ headers }) => {
      const code = headers['x-test-refuse'];
      if (typeof code === 'string' && isApiErrorCode(code)) throw apiError(code, { args: ['a', 'b'] });
    },
  });
  await oos(app, 'CreateTemplate', { TemplateName: 'sleepy', Content: SLEEPY });
});
afterAll(async () => world.dispose());

const refusedBy = (code: ApiErrorCode) => (): Promise<Response> => oos(app, 'ListExecutions').set('x-test-refuse', code);
const finished = async (): Promise<string> => {
  const res = await oos(app, 'StartExecution', { TemplateName: 'sleepy', Parameters: '{"minutes": 1}' });
  await node.settle();
  await node.advance(60_000);
  return res.body.Execution.ExecutionId as string;
};

const CASES: { readonly [C in OosApiErrorCode]: () => Promise<Response> } = {
  InvalidVersion: refusedBy('InvalidVersion'),
  'InvalidAction.NotFound': () => request(app).get('/?Action=ListFlows&Version=2019-06-01'),
  'User.NoPermission': refusedBy('User.NoPermission'),
  InvalidStsToken: refusedBy('InvalidStsToken'),
  ExpiredStsToken: refusedBy('ExpiredStsToken'),
  InvalidAccountType: refusedBy('InvalidAccountType'),
  AssumeRoleFailed: refusedBy('AssumeRoleFailed'),
  QuotaExceed: async () => {
    const first = await oos(app, 'StartExecution', { TemplateName: 'sleepy' });
    await node.settle();
    const second = await oos(app, 'StartExecution', { TemplateName: 'sleepy' });
    await oos(app, 'CancelExecution', { ExecutionId: first.body.Execution.ExecutionId });
    await node.settle();
    return second;
  },
  TemplateValidationError: () => oos(app, 'CreateTemplate', { TemplateName: 'broken', Content: 'FormatVersion: OOS-2019-06-01\nTasks: []\nExtra: 1\n' }),
  MissingExecutionParameter: () => oos(app, 'StartExecution', { TemplateContent: SLEEPY.replace('Default: 60', 'MinValue: 1') }),
  UnknownExecutionParameter: () => oos(app, 'StartExecution', { TemplateName: 'sleepy', Parameters: '{"hours": 1}' }),
  'EntityNotExists.Template': () => oos(app, 'GetTemplate', { TemplateName: 'nope' }),
  'EntityNotExist.Execution': () => oos(app, 'CancelExecution', { ExecutionId: 'exec-00000000000000000000' }),
  'EntityNotExist.TaskExecution': async () => oos(app, 'ListTaskExecutions', { ExecutionId: await finished(), TaskExecutionId: 'exec-x.t9999' }),
  ExecutionCancelFailed: async () => oos(app, 'CancelExecution', { ExecutionId: await finished() }),
  InvalidParameter: async () => oos(app, 'ListResourceExecutionStatus', { ExecutionId: await finished(), MaxResults: 5 }),
  'EntityNotExists.Execution': () => oos(app, 'ListResourceExecutionStatus', { ExecutionId: 'exec-00000000000000000000' }),
  'EntityAlreadyExists.Template': () => oos(app, 'CreateTemplate', { TemplateName: 'sleepy', Content: SLEEPY }),
  ExecutionNotifyFailed: async () => oos(app, 'NotifyExecution', { ExecutionId: await finished(), NotifyType: 'Approve' }),
};

describe('every OOS catalog code over HTTP', () => {
  it.each(Object.keys(CASES) as OosApiErrorCode[])('%s → its catalog status and the error envelope', async (code) => {
    const res = await CASES[code]();
    expect(res.status).toBe(API_ERRORS[code].status);
    expect(res.body.Code).toBe(code);
    expect(Object.keys(res.body).sort()).toEqual(['Code', 'HostId', 'Message', 'RequestId']);
    expect(res.headers['x-acs-request-id']).toBe(res.body.RequestId);
    expect(typeof res.body.Message).toBe('string');
    expect(res.body.Message.length).toBeGreaterThan(0);
    expect(res.body.Message).not.toContain('%s');
  });
});

// ---------------------------------------------------------------------------------------------
// the catalog against the seeds

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

interface SeedRow {
  seed: string;
  code: string;
  status: number;
  message: string;
}

/** The error tables of seeds 000–003 (three layouts: spaces, pipes, and glued cells). */
function seedRows(): SeedRow[] {
  const dir = [resolve(root, '../shared/seeds'), resolve(root, 'shared/seeds')].find((d) => existsSync(d));
  if (!dir) throw new Error('seed folder not found');
  const rows: SeedRow[] = [];
  for (const seed of ['000', '001', '002', '003']) {
    const file = readdirSync(dir).find((f) => f.startsWith(`${seed}_`));
    if (!file) throw new Error(`seed ${seed} not found`);
    for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
      let m = /^([A-Z][A-Za-z.]+) (\d{3}) (.+?) The error message/.exec(line);
      if (m) {
        rows.push({ seed, code: m[1] as string, status: Number(m[2]), message: m[3] as string });
        continue;
      }
      m = /^([A-Z][A-Za-z.]+) \| (\d{3}) \| (.+?) \|/.exec(line);
      if (m) {
        rows.push({ seed, code: m[1] as string, status: Number(m[2]), message: m[3] as string });
        continue;
      }
      m = /^(\d{3})([A-Z][A-Za-z.]+?)(The .+?\.)The /.exec(line);
      if (m) rows.push({ seed, code: m[2] as string, status: Number(m[1]), message: m[3] as string });
    }
  }
  return rows;
}

const placeholders = (text: string): string => text.replace(/\{\{?[a-z_]+\}?\}/g, '%s');

describe('the OOS codes of the catalog agree with seeds 000–003', () => {
  const rows = seedRows();

  it('the seed tables parse (8 + 12 + 8 + 2 rows)', () => {
    expect(['000', '001', '002', '003'].map((s) => rows.filter((r) => r.seed === s).length)).toEqual([8, 12, 8, 2]);
  });

  it('every seed code is catalogued with the seed message, and oosSeeds names exactly the seeds that list it', () => {
    for (const row of rows) {
      const spec = API_ERRORS[row.code as ApiErrorCode];
      expect(spec, row.code).toBeDefined();
      expect(spec.message, row.code).toBe(placeholders(row.message));
      expect(spec.seed, row.code).toBe(false);
      expect(spec.oosSeeds, row.code).toContain(row.seed);
    }
    for (const [code, spec] of Object.entries(API_ERRORS)) {
      if (!spec.oosSeeds) continue;
      expect([...spec.oosSeeds].sort(), code).toEqual(rows.filter((r) => r.code === code).map((r) => r.seed).sort());
    }
  });

  it("every status is the seed's; where seeds disagree (User.NoPermission: 400 vs 401) the majority's", () => {
    const byCode = new Map<string, number[]>();
    for (const r of rows) byCode.set(r.code, [...(byCode.get(r.code) ?? []), r.status]);
    for (const [code, statuses] of byCode) {
      const counts = new Map<number, number>();
      for (const s of statuses) counts.set(s, (counts.get(s) ?? 0) + 1);
      const majority = [...counts].sort((a, b) => b[1] - a[1])[0]?.[0];
      expect(API_ERRORS[code as ApiErrorCode].status, code).toBe(majority);
      if (code !== 'User.NoPermission') expect(counts.size, code).toBe(1);
    }
    expect(byCode.get('User.NoPermission')).toEqual([400, 401, 401]);
  });

  it('every code the OOS service raises is catalogued as an OOS code', () => {
    for (const code of Object.values(OosExecutionErrorCodes)) {
      expect(isApiErrorCode(code), code).toBe(true);
      expect(API_ERRORS[code].oosSeeds, code).toBeDefined();
    }
  });
});
