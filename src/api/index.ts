/** The HTTP API of flowrun (FnF 2019-03-15): app factory, server, error catalog. */
export { createApp } from './app.js';
export type { AppDeps, AuthRequest, Authenticator } from './app.js';
export { ACTION_NAMES, API_VERSION, isActionName, validateParams } from './actions.js';
export type { ActionName, ActionParams } from './actions.js';
export { API_ERRORS, apiError, formatTemplate, isApiErrorCode, renderError } from './errors.js';
export type { ApiErrorCode, ApiErrorSpec, RenderedError } from './errors.js';
export { DEFAULT_BODY_LIMIT_BYTES } from './body.js';
export {
  CONNECTION_CLOSE_GRACE_MS,
  DEFAULT_HOST,
  DEFAULT_LOG_LEVEL,
  DEFAULT_PORT,
  DEFAULT_SHUTDOWN_GRACE_MS,
  LOG_LEVELS,
  startServer,
} from './server.js';
export type { RunningServer, ServerConfig } from './server.js';
export { ConfigError, ENV, serveConfig } from './config.js';
export type { ServeOptions } from './config.js';
