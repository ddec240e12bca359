/**
 * How a benchmark child process tells its parent it is ready (one JSON line on stdout, marked so
 * that log lines on the same stream are never mistaken for it) and how it shuts down: on SIGTERM,
 * SIGINT, or when its stdin is a pipe that closes (the parent went away), it runs `close` and
 * exits normally, so that `--cpu-prof` profiles are written.
 */
import { fstatSync } from 'node:fs';

export const READY_MARK = 'bench-ready';

export interface ReadyLine {
  [READY_MARK]: string;
  port?: number;
  logLevel?: string;
  [key: string]: unknown;
}

export function announce(line: Omit<ReadyLine, typeof READY_MARK>, name: string): void {
  process.stdout.write(`${JSON.stringify({ [READY_MARK]: name, ...line })}\n`);
}

export function exitOnStop(close: () => Promise<void>): void {
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    close().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  let piped = false;
  try {
    piped = fstatSync(0).isFIFO();
  } catch {
    // no stdin
  }
  if (piped) {
    process.stdin.on('end', stop);
    process.stdin.on('error', stop);
    process.stdin.resume();
  }
}

/** `--name value` from argv, else the environment variable, else the default. */
export function option(name: string, env: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const fromArgs = i >= 0 ? process.argv[i + 1] : undefined;
  return fromArgs ?? process.env[env] ?? fallback;
}
