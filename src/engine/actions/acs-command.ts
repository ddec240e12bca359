/**
 * The local command runner behind ACS::ECS::RunCommand: runs a command of an inventory instance
 * ON THIS MACHINE, as the flowrun process user. It is OFF unless the operator enables it
 * (RunCommand then fails with `OOS.CommandRunnerDisabled`); it can also be replaced (tests, an SSH
 * runner). The instance's id and region are given to the command as OOS_INSTANCE_ID and
 * OOS_REGION_ID. Output is capped like Cloud Assistant's (24 KB).
 */
import { spawn } from 'node:child_process';
import type { Clock } from '../../shared/clock.js';
import { FlowrunError } from '../../shared/errors.js';
import { AcsErrorNames } from './acs-names.js';
import type { InventoryResource } from './acs-config.js';
import { cancellationError } from '../errors.js';

/** Most output kept from a command (Cloud Assistant keeps 24 KB). */
export const MAX_COMMAND_OUTPUT_BYTES = 24 * 1024;
/** RunCommand `timeout` default, seconds. */
export const DEFAULT_COMMAND_TIMEOUT_SECONDS = 600;

export interface CommandRequest {
  instance: InventoryResource;
  /** RunShellScript, RunPythonScript, RunPerlScript (RunBatScript / RunPowerShellScript are refused locally). */
  commandType: string;
  content: string;
  workingDir: string | undefined;
  timeoutSeconds: number;
  signal: AbortSignal;
  clock: Clock;
}

export interface CommandResult {
  exitCode: number;
  /** stdout then stderr, capped at {@link MAX_COMMAND_OUTPUT_BYTES}. */
  output: string;
}

export type CommandRunner = (request: CommandRequest) => Promise<CommandResult>;

const INTERPRETERS: Record<string, (content: string) => [string, string[]]> = {
  RunShellScript: (c) => ['/bin/sh', ['-c', c]],
  RunPythonScript: (c) => ['python3', ['-c', c]],
  RunPerlScript: (c) => ['perl', ['-e', c]],
};

/** Runs commands as local processes (see the module comment). */
export function createLocalCommandRunner(): CommandRunner {
  return (req) =>
    new Promise<CommandResult>((resolve, reject) => {
      const interpreter = INTERPRETERS[req.commandType];
      if (!interpreter) {
        reject(new FlowrunError(AcsErrorNames.CommandFailed, `command type ${req.commandType} cannot run on this machine (supported: ${Object.keys(INTERPRETERS).join(', ')})`));
        return;
      }
      if (req.signal.aborted) {
        reject(cancellationError(req.signal.reason));
        return;
      }
      const [file, args] = interpreter(req.content);
      const child = spawn(file, args, {
        cwd: req.workingDir || undefined,
        env: { ...process.env, OOS_INSTANCE_ID: req.instance.ResourceId, OOS_REGION_ID: req.instance.RegionId ?? '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const chunks: Buffer[] = [];
      let size = 0;
      const collect = (chunk: Buffer): void => {
        if (size >= MAX_COMMAND_OUTPUT_BYTES) return;
        const part = chunk.subarray(0, MAX_COMMAND_OUTPUT_BYTES - size);
        chunks.push(part);
        size += part.length;
      };
      child.stdout.on('data', collect);
      child.stderr.on('data', collect);
      const timer = new AbortController();
      let timedOut = false;
      req.clock.sleep(req.timeoutSeconds * 1000, timer.signal).then(
        () => {
          timedOut = true;
          child.kill('SIGKILL');
        },
        () => undefined,
      );
      const onAbort = (): void => {
        child.kill('SIGKILL');
      };
      req.signal.addEventListener('abort', onAbort, { once: true });
      const done = (): void => {
        timer.abort();
        req.signal.removeEventListener('abort', onAbort);
      };
      child.on('error', (err) => {
        done();
        reject(new FlowrunError(AcsErrorNames.CommandFailed, `cannot start ${file}: ${err.message}`));
      });
      child.on('close', (code) => {
        done();
        if (req.signal.aborted) reject(cancellationError(req.signal.reason));
        else if (timedOut) reject(new FlowrunError(AcsErrorNames.CommandFailed, `the command on ${req.instance.ResourceId} timed out after ${req.timeoutSeconds} s`));
        else resolve({ exitCode: code ?? -1, output: Buffer.concat(chunks).toString('utf8') });
      });
    });
}
