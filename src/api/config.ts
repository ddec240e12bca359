/**
 * Configuration of `flowrun serve` from command-line options and environment variables
 * (options win): FLOWRUN_PORT, FLOWRUN_HOST, FLOWRUN_FLOWS_DIR, FLOWRUN_FUNCTIONS_DIR,
 * FLOWRUN_LOG_LEVEL, FLOWRUN_WATCH, FLOWRUN_DATA_DIR, FLOWRUN_DATABASE_URL, FLOWRUN_INSTANCE_ID,
 * FLOWRUN_ACCESS_KEYS_FILE, FLOWRUN_INSECURE, FLOWRUN_OOS_MAX_RUNNING, FLOWRUN_OOS_MAX_CONCURRENT.
 */
import { DEFAULT_FLOWS_DIR } from '../runtime.js';
import { DEFAULT_DATA_DIR } from '../store/index.js';
import { DEFAULT_HOST, DEFAULT_LOG_LEVEL, DEFAULT_PORT, LOG_LEVELS } from './server.js';
import type { ServerConfig } from './server.js';

export interface ServeOptions {
  port?: string;
  host?: string;
  flows?: string;
  functions?: string;
  logLevel?: string;
  watch?: boolean;
  dataDir?: string;
  databaseUrl?: string;
  instanceId?: string;
  /** `--access-keys FILE` */
  accessKeys?: string;
  insecure?: boolean;
  /** `--oos-max-running N`: QuotaExceed past N unfinished OOS executions per account. */
  oosMaxRunning?: string;
  /** `--oos-max-concurrent N`: OOS executions running at once per account; more wait Queued. */
  oosMaxConcurrent?: string;
}

export const ENV = {
  port: 'FLOWRUN_PORT',
  host: 'FLOWRUN_HOST',
  flowsDir: 'FLOWRUN_FLOWS_DIR',
  functionsDir: 'FLOWRUN_FUNCTIONS_DIR',
  logLevel: 'FLOWRUN_LOG_LEVEL',
  watch: 'FLOWRUN_WATCH',
  dataDir: 'FLOWRUN_DATA_DIR',
  databaseUrl: 'FLOWRUN_DATABASE_URL',
  instanceId: 'FLOWRUN_INSTANCE_ID',
  leaseMs: 'FLOWRUN_LEASE_MS',
  accessKeysFile: 'FLOWRUN_ACCESS_KEYS_FILE',
  insecure: 'FLOWRUN_INSECURE',
  oosMaxRunning: 'FLOWRUN_OOS_MAX_RUNNING',
  oosMaxConcurrent: 'FLOWRUN_OOS_MAX_CONCURRENT',
} as const;

export class ConfigError extends Error {}

function flag(option: boolean | undefined, envValue: string | undefined): boolean {
  const value = nonEmpty(envValue);
  return option === true || (value !== undefined && !/^(0|false|no|off)$/i.test(value));
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

export function parsePort(value: string, source: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 65_535) throw new ConfigError(`${source} must be a port number (0-65535), got '${value}'`);
  return Number(value);
}

/** Builds the server configuration; throws ConfigError for a bad port or log level. */
export function serveConfig(options: ServeOptions, env: Readonly<Record<string, string | undefined>>): ServerConfig {
  const portText = nonEmpty(options.port) ?? nonEmpty(env[ENV.port]);
  const port = portText === undefined ? DEFAULT_PORT : parsePort(portText, options.port !== undefined ? '--port' : ENV.port);
  const host = nonEmpty(options.host) ?? nonEmpty(env[ENV.host]) ?? DEFAULT_HOST;
  const flowsDir = nonEmpty(options.flows) ?? nonEmpty(env[ENV.flowsDir]) ?? DEFAULT_FLOWS_DIR;
  // no default: local functions are enabled only when a folder is given
  const functionsDir = nonEmpty(options.functions) ?? nonEmpty(env[ENV.functionsDir]);
  const logLevel = (nonEmpty(options.logLevel) ?? nonEmpty(env[ENV.logLevel]) ?? DEFAULT_LOG_LEVEL).toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) throw new ConfigError(`log level must be one of ${LOG_LEVELS.join(', ')}, got '${logLevel}'`);
  const watch = flag(options.watch, env[ENV.watch]);
  const accessKeysFile = nonEmpty(options.accessKeys) ?? nonEmpty(env[ENV.accessKeysFile]);
  const insecure = flag(options.insecure, env[ENV.insecure]);
  const databaseUrl = nonEmpty(options.databaseUrl) ?? nonEmpty(env[ENV.databaseUrl]);
  const dataDir = nonEmpty(options.dataDir) ?? nonEmpty(env[ENV.dataDir]) ?? DEFAULT_DATA_DIR;
  const instanceId = nonEmpty(options.instanceId) ?? nonEmpty(env[ENV.instanceId]);
  const count = (option: string | undefined, name: string, key: keyof typeof ENV): number | undefined => {
    const text = nonEmpty(option) ?? nonEmpty(env[ENV[key]]);
    if (text === undefined) return undefined;
    if (!/^\d+$/.test(text) || Number(text) < 1 || !Number.isSafeInteger(Number(text))) throw new ConfigError(`${nonEmpty(option) !== undefined ? name : ENV[key]} must be a positive whole number, got '${text}'`);
    return Number(text);
  };
  const oosMaxRunningExecutions = count(options.oosMaxRunning, '--oos-max-running', 'oosMaxRunning');
  const oosMaxConcurrentExecutions = count(options.oosMaxConcurrent, '--oos-max-concurrent', 'oosMaxConcurrent');
  const leaseText = nonEmpty(env[ENV.leaseMs]);
  if (leaseText !== undefined && !/^\d+$/.test(leaseText)) throw new ConfigError(`${ENV.leaseMs} must be a number of milliseconds, got '${leaseText}'`);
  return {
    port,
    host,
    flowsDir,
    ...(functionsDir !== undefined ? { functionsDir } : {}),
    logLevel,
    watch,
    ...(databaseUrl !== undefined ? { databaseUrl } : { dataDir }),
    ...(instanceId !== undefined ? { instanceId } : {}),
    ...(leaseText !== undefined ? { leaseMs: Number(leaseText) } : {}),
    ...(accessKeysFile !== undefined ? { accessKeysFile } : {}),
    ...(insecure ? { insecure } : {}),
    ...(oosMaxRunningExecutions !== undefined ? { oosMaxRunningExecutions } : {}),
    ...(oosMaxConcurrentExecutions !== undefined ? { oosMaxConcurrentExecutions } : {}),
  };
}
