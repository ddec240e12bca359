/**
 * Secure by default: without access keys the server binds loopback only; another address is
 * refused with a clear message unless `insecure` (`--insecure`, FLOWRUN_INSECURE=1) is given, and
 * then a warning is logged. With access keys any address is fine. The CLI says so and exits 2.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveConfig } from '../../src/api/config.js';
import { checkBinding, InsecureBindError, isLoopbackHost, startServer } from '../../src/api/server.js';

const silent = pino({ level: 'silent' });
let dir: string;
let keysFile: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'flowrun-binding-'));
  keysFile = join(dir, 'keys.json');
  await writeFile(keysFile, JSON.stringify([{ AccessKeyId: 'LTAIbind', AccessKeySecret: 's3cret-bind', AccountId: '42' }]), { mode: 0o600 });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function capture(): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

describe('loopback addresses', () => {
  it.each(['127.0.0.1', '127.1.2.3', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', 'localhost', 'LOCALHOST'])('%s is loopback', (host) => {
    expect(isLoopbackHost(host)).toBe(true);
  });
  it.each(['0.0.0.0', '::', '', '10.0.0.1', '192.168.1.10', 'example.com', '::ffff:10.0.0.1', '128.0.0.1', 'localhost.example.com'])('%s is not', (host) => {
    expect(isLoopbackHost(host)).toBe(false);
  });
});

describe('checkBinding', () => {
  it('refuses a non-loopback address without keys, naming the ways out', () => {
    expect(() => checkBinding({ host: '0.0.0.0' })).toThrow(InsecureBindError);
    expect(() => checkBinding({ host: '0.0.0.0' })).toThrow(/refusing to listen on 0\.0\.0\.0 without access keys.*--access-keys FILE.*loopback.*--insecure/);
  });
  it('accepts loopback, keys, a custom authenticator, or --insecure (flagged)', () => {
    expect(checkBinding({})).toEqual({ insecure: false });
    expect(checkBinding({ host: '::1' })).toEqual({ insecure: false });
    expect(checkBinding({ host: '0.0.0.0', accessKeysFile: 'k.json' })).toEqual({ insecure: false });
    expect(checkBinding({ host: '0.0.0.0', authenticate: () => undefined })).toEqual({ insecure: false });
    expect(checkBinding({ host: '0.0.0.0', insecure: true })).toEqual({ insecure: true });
  });
});

describe('startServer', () => {
  it('without keys on 0.0.0.0: refuses to start (nothing is opened)', async () => {
    await expect(startServer({ port: 0, host: '0.0.0.0', flowsDir: dir, logger: silent })).rejects.toThrow(InsecureBindError);
  });

  it('without keys on 0.0.0.0 with insecure: starts and logs a warning', async () => {
    const { logger, lines } = capture();
    const server = await startServer({ port: 0, host: '0.0.0.0', flowsDir: dir, logger, insecure: true });
    try {
      const warning = lines.find((l) => l['level'] === 40 && String(l['msg']).startsWith('INSECURE'));
      expect(warning, JSON.stringify(lines)).toBeDefined();
      const res = await fetch(`http://127.0.0.1:${server.port}/health`);
      expect(res.status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('with keys on 0.0.0.0: starts, no warning, and requests must be signed', async () => {
    const { logger, lines } = capture();
    const server = await startServer({ port: 0, host: '0.0.0.0', flowsDir: dir, logger, accessKeysFile: keysFile });
    try {
      expect(lines.some((l) => String(l['msg']).startsWith('INSECURE'))).toBe(false);
      expect(lines.find((l) => String(l['msg']).startsWith('request signing required'))).toMatchObject({ accessKeys: 1, accounts: 1 });
      const res = await fetch(`http://127.0.0.1:${server.port}/ListFlows`, { method: 'POST' });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { Code: string }).Code).toBe('MissingRequiredParams');
      expect(JSON.stringify(lines)).not.toContain('s3cret-bind');
    } finally {
      await server.close();
    }
  });

  it('a bad keys file refuses to start without quoting the secret', async () => {
    const bad = join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify([{ AccessKeyId: 'LTAI bad id', AccessKeySecret: 'leak-me-not', AccountId: '1' }]), { mode: 0o600 });
    const err = (await startServer({ port: 0, flowsDir: dir, logger: silent, accessKeysFile: bad }).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toContain('AccessKeyId');
    expect(err.message).not.toContain('leak-me-not');
  });
});

describe('serve configuration', () => {
  it('--access-keys / FLOWRUN_ACCESS_KEYS_FILE and --insecure / FLOWRUN_INSECURE', () => {
    expect(serveConfig({}, {})).not.toHaveProperty('accessKeysFile');
    expect(serveConfig({}, {})).not.toHaveProperty('insecure');
    expect(serveConfig({}, { FLOWRUN_ACCESS_KEYS_FILE: 'env.json', FLOWRUN_INSECURE: '1' })).toMatchObject({ accessKeysFile: 'env.json', insecure: true });
    expect(serveConfig({ accessKeys: 'opt.json' }, { FLOWRUN_ACCESS_KEYS_FILE: 'env.json' })).toMatchObject({ accessKeysFile: 'opt.json' });
    expect(serveConfig({}, { FLOWRUN_INSECURE: 'false' })).not.toHaveProperty('insecure');
    expect(serveConfig({ insecure: true }, {})).toMatchObject({ insecure: true });
  });
});

interface Outcome {
  code: number;
  stderr: string;
}

function cli(args: string[], env: Record<string, string> = {}): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { timeout: 60_000, env: { ...process.env, ...env } }, (err, _stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stderr });
    });
  });
}

describe('flowrun serve', { timeout: 60_000 }, () => {
  it('--host 0.0.0.0 without keys exits 2 with the reason', async () => {
    const r = await cli(['serve', '--host', '0.0.0.0', '--port', '0', '--flows', dir, '--data-dir', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('refusing to listen on 0.0.0.0 without access keys');
    expect(r.stderr).toContain('--insecure');
  });

  it('FLOWRUN_HOST=0.0.0.0 without keys exits 2 too', async () => {
    const r = await cli(['serve', '--port', '0', '--flows', dir, '--data-dir', dir], { FLOWRUN_HOST: '0.0.0.0' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('refusing to listen');
  });

  it('--access-keys with --workers 2 is refused (nonces are remembered per process)', async () => {
    const r = await cli(['serve', '--access-keys', keysFile, '--workers', '2', '--port', '0', '--flows', dir, '--data-dir', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--workers');
  });
});
