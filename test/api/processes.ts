/** Helpers for tests that run real `flowrun serve` processes and count side effects over HTTP. */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ServeProcess {
  child: ChildProcess;
  /** The URL the server announced ("flowrun is listening"). */
  url: Promise<string>;
}

/** Starts `flowrun serve --port 0 <args>` and reads its URL from the log. */
export function serveProcess(args: string[], env: Record<string, string> = {}): ServeProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
  const url = new Promise<string>((resolve, reject) => {
    let buffered = '';
    child.stdout?.on('data', (c: Buffer) => {
      buffered += c.toString('utf8');
      const m = /"url":"(http:\/\/[^"]+)","msg":"flowrun is listening"/.exec(buffered);
      if (m?.[1]) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`server exited (${code}) before listening`)));
  });
  return { child, url };
}

/** POST /<action> with a JSON body; the parsed answer. */
export async function call(url: string, action: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const res = await fetch(`${url}/${action}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return (await res.json()) as Record<string, unknown>;
}

export interface EffectCounter {
  url: string;
  /** Calls per `<execution>/<step>`. */
  calls: Map<string, number>;
  /** Task tokens received, by execution. */
  tokens: Map<string, string>;
  server: Server;
}

/** A local HTTP server counting `{step, execution, token?}` posts, answering after `delayMs`. */
export async function effectCounter(delayMs: number): Promise<EffectCounter> {
  const calls = new Map<string, number>();
  const tokens = new Map<string, string>();
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      const { step, execution, token } = JSON.parse(body) as { step: string; execution: string; token?: string };
      const key = `${execution}/${step}`;
      calls.set(key, (calls.get(key) ?? 0) + 1);
      if (token !== undefined) tokens.set(execution, token);
      setTimeout(() => {
        res.setHeader('content-type', 'application/json');
        res.end('{"ok":true}');
      }, delayMs);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/effect`, calls, tokens, server };
}
