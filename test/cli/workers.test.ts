import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';

describe('flowrun serve --workers', { timeout: 120_000 }, () => {
  it('runs N server processes on one port and stops them all on SIGTERM', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'flowrun-workers-'));
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--workers', '2', '--port', '0', '--data-dir', dataDir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: { pid: number; msg: string; url?: string; action?: string }[] = [];
    let buffered = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      for (const p of parts) if (p.startsWith('{')) lines.push(JSON.parse(p) as (typeof lines)[number]);
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      // three processes compile the sources with tsx: slow on a busy machine (the whole suite runs at once)
      const deadline = Date.now() + 90_000;
      while (lines.filter((l) => l.msg === 'flowrun is listening').length < 2 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      const listening = lines.filter((l) => l.msg === 'flowrun is listening');
      expect(new Set(listening.map((l) => l.pid)).size).toBe(2);
      const url = listening[0]?.url ?? '';
      expect(new Set(listening.map((l) => l.url))).toEqual(new Set([url]));
      for (let i = 0; i < 40; i++) {
        const res = await fetch(`${url}/StartSyncExecution`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', connection: 'close' },
          body: JSON.stringify({ FlowName: 'hello', Input: '{"name":"w"}' }),
        });
        const body = (await res.json()) as { Status: string; Output: string };
        expect(body.Status).toBe('Succeeded');
        expect(JSON.parse(body.Output)).toEqual({ message: 'Hello, w!' });
      }
      const served = (): typeof lines => lines.filter((l) => l.msg === 'request' && l.action === 'StartSyncExecution');
      await vi.waitFor(() => expect(served()).toHaveLength(40)); // log lines reach the pipe a little after the answers
      // the primary hands connections out round-robin: both workers answered
      expect(new Set(served().map((l) => l.pid)).size).toBe(2);
    } finally {
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
