import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { FlowDefinitionError } from '../flow/compile.js';
import { formatProblems } from '../flow/validate.js';
import { loadFlowFile } from '../flow/load.js';
import type { ExecutionMode } from '../flow/graph.js';
import type { HistoryEvent } from '../interpreter/types.js';
import { ConfigError, serveConfig } from '../api/config.js';
import type { ServeOptions } from '../api/config.js';
import { checkBinding, startServer } from '../api/server.js';
import { createRuntime } from '../runtime.js';
import { loadMockConfig, MockConfigError } from '../engine/mock-config.js';
import { runMockConfig } from '../interpreter/testing.js';
import { isPrimary, leaveCluster, parseWorkers, runPrimary } from './cluster.js';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { isJsonObject } from '../shared/json.js';
import type { JsonObject } from '../shared/json.js';

/** Exit codes: 0 success, 1 the execution or a check failed, 2 bad usage or unreadable input. */
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

const modeOption = (): Option =>
  new Option('--mode <mode>', 'execution mode the flow is checked against (default: the file\'s ExecutionMode, else express)')
    .choices(['express', 'standard'])
    .argParser((v: string) => {
      const m = v.toLowerCase();
      if (m !== 'express' && m !== 'standard') throw new InvalidArgumentError('must be express or standard');
      return m;
    });

const toMode = (m: string | undefined): ExecutionMode | undefined => (m === 'standard' ? 'Standard' : m === 'express' ? 'Express' : undefined);

function parseInput(text: string, source: string): JsonObject {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new InvalidArgumentError(`${source} is not valid JSON: ${(err as Error).message}`);
  }
  if (!isJsonObject(value)) throw new InvalidArgumentError(`${source} must be a JSON object`);
  return value;
}

export function formatEvent(e: HistoryEvent): string {
  const where = e.step !== undefined ? ` ${e.step}` : '';
  const path = e.path ? ` [${e.path.join('.')}]` : '';
  const detail = e.detail ? ` ${JSON.stringify(e.detail)}` : '';
  return `#${e.id} ${new Date(e.time).toISOString()} ${e.type}${where}${path}${detail}`;
}

export function buildProgram(): Command {
  const program = new Command('flowrun')
    .description('Run CloudFlow (FnF) flows locally')
    .showHelpAfterError()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  program
    .command('validate')
    .description('check flow definitions and report every problem')
    .argument('<files...>', 'flow definition files (YAML or JSON)')
    .addOption(modeOption())
    .option('--functions <dir>', 'folder of local functions (checks FC:InvokeFunction names)', 'flows/functions')
    .action(async (files: string[], opts: { mode?: string; functions: string }) => {
      const runtime = createRuntime({ functionsDir: opts.functions });
      let bad = 0;
      for (const file of files) {
        try {
          const mode = toMode(opts.mode);
          const flow = await loadFlowFile(file, { ...runtime.compileOptions, ...(mode ? { mode } : {}) });
          process.stdout.write(`${file}: ok (${flow.name}, ${flow.mode})\n`);
        } catch (err) {
          bad++;
          if (err instanceof FlowDefinitionError) process.stderr.write(`${formatProblems(err.problems, file)}\n`);
          else process.stderr.write(`${file}: ${(err as Error).message}\n`);
        }
      }
      await runtime.close();
      if (bad > 0) process.exitCode = EXIT_FAILED;
    });

  program
    .command('run')
    .description('run a flow and print its output JSON')
    .argument('<file>', 'flow definition file (YAML or JSON)')
    .option('--input <json>', 'execution input, a JSON object')
    .option('--input-file <file>', 'read the execution input from a file')
    .option('--trace', 'print the event log on stderr')
    .option('--functions <dir>', 'folder of local functions for FC:InvokeFunction', 'flows/functions')
    .option('--flows <dir>', 'folder of flows that FnF:StartSyncExecution may call (default: the file\'s folder)')
    .option('--name <name>', 'execution name')
    .addOption(modeOption())
    .action(async (file: string, opts: { input?: string; inputFile?: string; trace?: boolean; functions: string; flows?: string; name?: string; mode?: string }) => {
      if (opts.input !== undefined && opts.inputFile !== undefined) throw new InvalidArgumentError('give --input or --input-file, not both');
      const input =
        opts.inputFile !== undefined
          ? parseInput(await readFile(opts.inputFile, 'utf8'), opts.inputFile)
          : opts.input !== undefined
            ? parseInput(opts.input, '--input')
            : {};
      const runtime = createRuntime({ functionsDir: opts.functions });
      try {
        const mode = toMode(opts.mode);
        const compileOptions = { ...runtime.compileOptions, ...(mode ? { mode } : {}) };
        let flow;
        try {
          flow = await loadFlowFile(file, compileOptions);
        } catch (err) {
          if (err instanceof FlowDefinitionError) {
            process.stderr.write(`${formatProblems(err.problems, file)}\n`);
            process.exitCode = EXIT_USAGE;
            return;
          }
          throw err;
        }
        await runtime.flows.loadDirectory(resolve(opts.flows ?? dirname(file)), compileOptions);
        runtime.flows.set(flow);
        const controller = new AbortController();
        const onSignal = (): void => controller.abort(new Error('interrupted'));
        process.once('SIGINT', onSignal);
        const result = await runtime.run(flow, input, {
          signal: controller.signal,
          ...(opts.name ? { executionName: opts.name } : {}),
          ...(opts.trace ? { onEvent: (e: HistoryEvent) => process.stderr.write(`${formatEvent(e)}\n`) } : {}),
        });
        process.off('SIGINT', onSignal);
        if (result.status === 'Succeeded') {
          process.stdout.write(`${JSON.stringify(result.output ?? {}, null, 2)}\n`);
        } else {
          process.stderr.write(`${result.status}: ${result.error?.Code ?? ''}: ${result.error?.Detail ?? ''}\n`);
          process.exitCode = EXIT_FAILED;
        }
      } finally {
        await runtime.close();
      }
    });

  program
    .command('test')
    .description('run the mocked test cases of mock configuration files')
    .argument('[files...]', `mock configuration files (default: every *.yaml, *.yml, *.json in ${DEFAULT_TESTS_DIR})`)
    .option('--flows <dir>', 'folder of the flows the test cases name', 'flows')
    .addOption(modeOption())
    .action(async (files: string[], opts: { flows: string; mode?: string }) => {
      const runtime = createRuntime();
      try {
        const mode = toMode(opts.mode);
        const failures = await runtime.flows.loadDirectory(opts.flows, { ...runtime.compileOptions, ...(mode ? { mode } : {}) });
        for (const [file, problems] of failures) process.stderr.write(`${formatProblems(problems, file)}\n`);
        const targets = files.length > 0 ? files : await defaultTestFiles();
        if (targets.length === 0) throw new InvalidArgumentError(`no mock configuration files given and none found in ${DEFAULT_TESTS_DIR}`);
        let passed = 0;
        let failed = 0;
        for (const file of targets) {
          let config;
          try {
            config = await loadMockConfig(file);
          } catch (err) {
            failed++;
            process.stdout.write(`FAIL ${file}\n${err instanceof MockConfigError ? err.problems.map((p) => `    ${p}`).join('\n') : `    ${(err as Error).message}`}\n`);
            continue;
          }
          for (const r of await runMockConfig(config, (name) => runtime.flows.get(name))) {
            if (r.passed) passed++;
            else failed++;
            process.stdout.write(`${r.passed ? 'PASS' : 'FAIL'} ${r.flowName} › ${r.caseName}\n`);
            for (const p of r.problems) process.stdout.write(`    ${p}\n`);
          }
        }
        process.stdout.write(`${passed} passed, ${failed} failed\n`);
        if (failed > 0) process.exitCode = EXIT_FAILED;
      } finally {
        await runtime.close();
      }
    });

  program
    .command('serve')
    .description('serve the FnF API (StartSyncExecution, flows, recent executions) over HTTP')
    .option('--port <port>', 'port to listen on (env FLOWRUN_PORT, default 8080)')
    .option('--host <host>', 'address to listen on (env FLOWRUN_HOST, default 127.0.0.1)')
    .option('--flows <dir>', 'folder of flow files loaded at start (env FLOWRUN_FLOWS_DIR, default flows)')
    .option('--functions <dir>', 'folder of local functions for FC:InvokeFunction (env FLOWRUN_FUNCTIONS_DIR; default: none, local functions are disabled)')
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent (env FLOWRUN_LOG_LEVEL, default info)')
    .option('--watch', 'reload a flow file when it changes (env FLOWRUN_WATCH=1)')
    .option('--data-dir <dir>', 'folder of the embedded SQLite database (env FLOWRUN_DATA_DIR, default ./data)')
    .option('--database-url <url>', 'PostgreSQL URL instead of the embedded database (env FLOWRUN_DATABASE_URL)')
    .option('--oos-max-running <n>', 'OOS: QuotaExceed past N unfinished executions per account (env FLOWRUN_OOS_MAX_RUNNING, default 100)')
    .option('--oos-max-concurrent <n>', 'OOS: executions running at once per account; more wait Queued (env FLOWRUN_OOS_MAX_CONCURRENT, default: no limit)')
    .option('--instance-id <id>', 'stable id of this instance for execution leases (env FLOWRUN_INSTANCE_ID, default: a new one per start)')
    .option('--workers <n>', "server processes sharing the port, or 'auto' for one per core (env FLOWRUN_WORKERS, default 1)")
    .option('--access-keys <file>', 'JSON file of AccessKeys; every request must then be signed (env FLOWRUN_ACCESS_KEYS_FILE)')
    .option('--insecure', 'allow listening on a non-loopback address without access keys (env FLOWRUN_INSECURE=1)')
    .action(async (opts: ServeOptions & { workers?: string }) => {
      let config;
      let workers: number;
      try {
        config = serveConfig(opts, process.env);
        workers = parseWorkers(opts.workers ?? process.env['FLOWRUN_WORKERS']);
        checkBinding(config);
        if (workers > 1 && config.accessKeysFile !== undefined) {
          throw new Error(
            '--access-keys cannot be combined with --workers > 1 yet: replay protection remembers signature nonces per process, so a replayed request could reach another worker. Run one worker per port.',
          );
        }
      } catch (err) {
        if (err instanceof ConfigError || err instanceof Error) throw new InvalidArgumentError(err.message);
        throw err;
      }
      if (workers > 1 && isPrimary()) {
        await runPrimary(workers, (m) => process.stderr.write(`flowrun: ${m}\n`));
        return;
      }
      if (workers > 1 && config.instanceId !== undefined) config = { ...config, instanceId: `${config.instanceId}-${process.pid}` };
      const server = await startServer(config);
      await new Promise<void>((resolveStop) => {
        const stop = (signal: NodeJS.Signals): void => {
          process.off('SIGTERM', stop);
          process.off('SIGINT', stop);
          server.logger.info({ signal }, 'signal received');
          server.close().then(resolveStop, (err: unknown) => {
            server.logger.error({ err }, 'shutdown failed');
            process.exitCode = EXIT_FAILED;
            resolveStop();
          });
        };
        process.on('SIGTERM', stop);
        process.on('SIGINT', stop);
      });
      leaveCluster();
    });

  return program;
}

/** Where `flowrun test` looks for mock configuration files when none are given. */
export const DEFAULT_TESTS_DIR = join('flows', 'tests');

async function defaultTestFiles(): Promise<string[]> {
  try {
    const names = await readdir(DEFAULT_TESTS_DIR);
    return names.filter((n) => /\.(ya?ml|json)$/i.test(n)).sort().map((n) => join(DEFAULT_TESTS_DIR, n));
  } catch {
    return [];
  }
}
