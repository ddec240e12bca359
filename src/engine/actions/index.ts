import type { Logger } from 'pino';
import { createDisabledFunctionLoader, createFunctionLoader } from '../functions.js';
import type { FunctionLoader } from '../functions.js';
import type { ActionRegistry } from '../registry.js';
import type { ChildFlowStarter } from '../types.js';
import { createInvokeFunctionAction } from './fc.js';
import { createStartSyncExecutionAction } from './fnf.js';
import { createHttpRequestAction } from './http.js';
import type { HttpRequestActionOptions } from './http.js';
import { createMockAction } from './mock.js';

export interface BuiltinActionsOptions {
  /**
   * Directory of local functions for FC:InvokeFunction; `false`: local functions are disabled
   * (every call fails with `FC.FunctionsDisabled`, see {@link disabledFunctionsReason}).
   */
  functionsDir: string | false;
  /** The sentence FC.FunctionsDisabled gives (how to enable local functions). */
  disabledFunctionsReason?: string;
  startChildFlow?: ChildFlowStarter | undefined;
  maxChildDepth: number;
  logger?: Logger | undefined;
  http?: HttpRequestActionOptions;
}

/**
 * Registers `HTTP:Request`, `FC:InvokeFunction`, `FnF:StartSyncExecution` and `Mock`; returns the
 * function loader behind FC:InvokeFunction (for `invalidate`/`watch`).
 */
export function registerBuiltinActions(registry: ActionRegistry, options: BuiltinActionsOptions): { functions: FunctionLoader } {
  const functions =
    options.functionsDir === false
      ? createDisabledFunctionLoader(options.disabledFunctionsReason ?? 'local functions are disabled (no functions directory is configured)')
      : createFunctionLoader(options.functionsDir, options.logger ? { logger: options.logger } : {});
  registry.register(createHttpRequestAction(options.http));
  registry.register(createInvokeFunctionAction(functions));
  registry.register(createStartSyncExecutionAction({ startChildFlow: options.startChildFlow, maxChildDepth: options.maxChildDepth }));
  registry.register(createMockAction());
  return { functions };
}
