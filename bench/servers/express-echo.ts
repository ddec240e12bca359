/**
 * The baseline of the HTTP benchmark: a bare express route that echoes the JSON body it gets,
 * `node --import tsx bench/servers/express-echo.ts [--log-level warn] [--code dist|src]`. Same
 * settings as flowrun's server: the same express (the one flowrun depends on), a node:http server
 * on 127.0.0.1, `x-powered-by` and ETags off, the same body limit (1 MiB, read from flowrun's code
 * loaded the same way as the flowrun server loads it, see ./code.ts), and a pino logger at the
 * same level writing one line per request at info (so at 'warn' nothing is written). Prints one
 * ready line (JSON) with the port, the log level and where flowrun's code came from.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import pino from 'pino';
import type * as BodyModule from '../../src/api/body.js';
import { announce, exitOnStop, option } from './announce.js';
import { codeDir, importFlowrun } from './code.js';

const logLevel = option('log-level', 'BENCH_LOG_LEVEL', 'warn');
const { DEFAULT_BODY_LIMIT_BYTES } = await importFlowrun<typeof BodyModule>('api/body.js');
const logger = pino({ level: logLevel });
const app = express();
app.disable('x-powered-by');
app.set('etag', false);
app.use((req: Request, res: Response, next: NextFunction) => {
  const started = performance.now();
  res.once('finish', () => logger.info({ method: req.method, url: req.url, status: res.statusCode, durationMs: performance.now() - started }, 'request'));
  next();
});
app.post('/StartSyncExecution', express.json({ limit: DEFAULT_BODY_LIMIT_BYTES }), (req: Request, res: Response) => {
  res.json(req.body);
});

const server = createServer(app);
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const port = (server.address() as AddressInfo).port;
announce({ port, logLevel: logger.level, code: codeDir() }, 'express-echo');
exitOnStop(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
