/**
 * The flowrun server of the HTTP benchmark: `node --import tsx bench/servers/flowrun-server.ts
 * [--log-level warn] [--code dist|src]`. Writes the 10-state chain flow to a temporary flows
 * folder, starts flowrun's real server (startServer: the same app, body limits and logger as
 * `flowrun serve`, loaded from dist/ or src/, see ./code.ts) on 127.0.0.1 and a free port, and
 * prints one ready line (JSON) with the port, the log level and where the code came from.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as ServerModule from '../../src/api/server.js';
import { CHAIN_FLOW_NAME, chainDefinition } from '../flows.js';
import { announce, exitOnStop, option } from './announce.js';
import { codeDir, importFlowrun } from './code.js';

const logLevel = option('log-level', 'BENCH_LOG_LEVEL', 'warn');
const { startServer } = await importFlowrun<typeof ServerModule>('api/server.js');
const flowsDir = mkdtempSync(join(tmpdir(), 'flowrun-bench-flows-'));
writeFileSync(join(flowsDir, `${CHAIN_FLOW_NAME}.json`), JSON.stringify(chainDefinition()));

const server = await startServer({ port: 0, host: '127.0.0.1', flowsDir, logLevel });
announce({ port: server.port, logLevel: server.logger.level, code: codeDir(), flows: [CHAIN_FLOW_NAME] }, 'flowrun');
exitOnStop(async () => {
  await server.close();
  rmSync(flowsDir, { recursive: true, force: true });
});
