/**
 * The flowrun server of the HTTP benchmark: `node --import tsx bench/servers/flowrun-server.ts
 * [--log-level warn]`. Writes the 10-state chain flow to a temporary flows folder, starts
 * flowrun's real server (startServer: the same app, body limits and logger as `flowrun serve`) on
 * 127.0.0.1 and a free port, and prints one ready line (JSON) with the port and the log level.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../../src/api/server.js';
import { CHAIN_FLOW_NAME, chainDefinition } from '../flows.js';
import { announce, exitOnStop, option } from './announce.js';

const logLevel = option('log-level', 'BENCH_LOG_LEVEL', 'warn');
const flowsDir = mkdtempSync(join(tmpdir(), 'flowrun-bench-flows-'));
writeFileSync(join(flowsDir, `${CHAIN_FLOW_NAME}.json`), JSON.stringify(chainDefinition()));

const server = await startServer({ port: 0, host: '127.0.0.1', flowsDir, logLevel });
announce({ port: server.port, logLevel: server.logger.level, flows: [CHAIN_FLOW_NAME] }, 'flowrun');
exitOnStop(async () => {
  await server.close();
  rmSync(flowsDir, { recursive: true, force: true });
});
