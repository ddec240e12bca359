/**
 * OOS executions (API 2019-06-01) on the durable runner. {@link createOosExecutionService} wires
 * it: the ACS actions on a registry of their own (holding the built-ins of the given engine, so
 * `HTTP:Request`, `FC:InvokeFunction`, `FnF:StartSyncExecution` are the same actions), a task
 * engine for them, the runner hooks for kind 'template', and the templates folder.
 *
 * Call it BEFORE `runner.recover()`: resumed template executions need the hooks.
 */
import type { Logger } from 'pino';
import pino from 'pino';
import { createTaskEngine, ActionRegistry } from '../../engine/index.js';
import type { TaskEngine } from '../../engine/index.js';
import { DEFAULT_HIGH_RISK_API_PATTERN, loadAcsFixtures, loadInventory, registerAcsActions } from '../../oos/index.js';
import type { AcsFixtures, CommandRunner, Inventory } from '../../oos/index.js';
import { DEFAULT_ACCOUNT_ID, DEFAULT_EXECUTE_USER, DEFAULT_REGION_ID } from '../../oos/limits.js';
import type { Clock } from '../../shared/clock.js';
import type { DurableRunner } from '../durable-runner.js';
import type { ExecutionStore } from '../store.js';
import { createOosHooks } from './hooks.js';
import { LoopObserver } from './observe.js';
import { DEFAULT_MAX_RUNNING_EXECUTIONS, OosExecutionService } from './service.js';
import { TemplateRepository } from './templates.js';

export * from './service.js';
export { OosExecutionErrorCodes, OosLifecycleErrorNames, oosApiError } from './errors.js';
export type { OosExecutionErrorCode } from './errors.js';
export { NOTIFY_SIGNAL, NOTIFY_TYPES, NOTIFIED_EVENT, decideNotify, createOosHooks } from './hooks.js';
export type { NotifyPayload, NotifyType, HoldReason } from './hooks.js';
export { META_TAG, metaOf, EXECUTION_MODES, SAFETY_CHECKS, LOOP_MODES } from './meta.js';
export type { ExecutionMeta } from './meta.js';
export { TemplateRepository, parseTemplateVersion, templateVersionName } from './templates.js';
export type { TemplateView, TemplateMetadata } from './templates.js';
export { LoopObserver, observeLoops } from './observe.js';
export type { TaskExecutionView, ExecutionLog } from './task-executions.js';
export { PAGE_10_100, PAGE_20_100 } from './paging.js';

export interface OosExecutionConfig {
  /** `{{ ACS::RegionId }}` and the inventory's default region (default cn-hangzhou). */
  regionId?: string;
  /** Fixtures file answering cloud APIs and child templates (see src/engine/actions/acs-config.ts). */
  fixturesPath?: string;
  /** Local inventory file (ACS::SelectTargets, ACS::ECS::RunCommand). */
  inventoryPath?: string;
  /** The same, already loaded (tests, embedding); they win over the paths. */
  fixtures?: AcsFixtures;
  inventory?: Inventory;
  /** ACS::ECS::RunCommand's local command runner: off unless enabled. */
  commandRunner?: { enabled: boolean; run?: CommandRunner };
  /** API names that need confirmation with ConfirmEveryHighRiskAction (a RegExp or its source). */
  highRiskPattern?: RegExp | string;
  /** QuotaExceed past this many running executions (default {@link DEFAULT_MAX_RUNNING_EXECUTIONS}). */
  maxRunningExecutions?: number;
  /** Top-level executions running at once per account; more wait `Queued` (default: no limit, never queued). */
  maxConcurrentExecutions?: number;
  /** Template files loaded at start (e.g. flows/templates); absent: none. */
  templatesDir?: string;
  account?: string;
  /** ExecutedBy / CreatedBy (default `root(<account id>)`). */
  executedBy?: string;
  /** Tasks of OOS executions in flight at once (default: the engine's default). */
  maxInFlightTasks?: number;
  /** CancelExecution waits this long (clock ms) for Cancelled before answering. */
  cancelWaitMs?: number;
}

export interface OosExecutionDeps {
  store: ExecutionStore;
  runner: DurableRunner;
  /** The engine whose built-in actions the ACS actions use (or its registry). */
  engine?: Pick<TaskEngine, 'registry'>;
  registry?: ActionRegistry;
  clock: Clock;
  logger?: Logger;
  config?: OosExecutionConfig;
}

/** Builds the OOS execution service and installs its hooks on the runner (kind 'template'). */
export async function createOosExecutionService(deps: OosExecutionDeps): Promise<OosExecutionService> {
  const config = deps.config ?? {};
  const logger = deps.logger ?? pino({ level: 'silent' });
  const regionId = config.regionId ?? DEFAULT_REGION_ID;
  const pattern = config.highRiskPattern === undefined ? DEFAULT_HIGH_RISK_API_PATTERN : typeof config.highRiskPattern === 'string' ? new RegExp(config.highRiskPattern) : config.highRiskPattern;
  const fixtures = config.fixtures ?? (config.fixturesPath ? await loadAcsFixtures(config.fixturesPath) : undefined);
  const inventory = config.inventory ?? (config.inventoryPath ? await loadInventory(config.inventoryPath) : undefined);

  const observer = new LoopObserver();
  const executedBy = config.executedBy ?? DEFAULT_EXECUTE_USER.replace(/\(.*\)/, `(${DEFAULT_ACCOUNT_ID})`);
  const templates = new TemplateRepository({
    store: deps.store,
    clock: deps.clock,
    compile: { regionId, clock: deps.clock, highRiskApiPattern: pattern },
    observer,
    user: executedBy,
    ...(config.account !== undefined ? { account: config.account } : {}),
  });
  const service = new OosExecutionService({
    store: deps.store,
    runner: deps.runner,
    clock: deps.clock,
    templates,
    logger,
    highRiskPattern: pattern,
    maxRunningExecutions: config.maxRunningExecutions ?? DEFAULT_MAX_RUNNING_EXECUTIONS,
    ...(config.maxConcurrentExecutions !== undefined ? { maxConcurrentExecutions: config.maxConcurrentExecutions } : {}),
    executedBy,
    ...(config.account !== undefined ? { account: config.account } : {}),
    ...(config.cancelWaitMs !== undefined ? { cancelWaitMs: config.cancelWaitMs } : {}),
  });

  // The ACS actions on a registry of their own, next to the built-ins they delegate to.
  const registry = new ActionRegistry();
  const base = deps.engine?.registry ?? deps.registry;
  for (const name of base?.names() ?? []) {
    const def = base?.get(name);
    if (def && !name.startsWith('ACS::')) registry.register(def);
  }
  registerAcsActions(registry, {
    ...(fixtures ? { fixtures } : {}),
    ...(inventory ? { inventory } : {}),
    ...(config.commandRunner ? { commandRunner: config.commandRunner } : {}),
    startTemplate: service.startChild,
    regionId,
  });
  const engine = createTaskEngine({ clock: deps.clock, registry, logger, ...(config.maxInFlightTasks !== undefined ? { maxInFlight: config.maxInFlightTasks } : {}) });
  service.addCloser(() => engine.close());

  deps.runner.setHooks(
    'template',
    createOosHooks({
      tasks: engine.runTask,
      observer,
      highRiskPattern: pattern,
      isFlagged: (action) => registry.get(action)?.highRisk ?? false,
      templateOf: (id) => service.templateOf(id),
      resolveFlow: (record) => service.resolveFlow(record),
      onFinished: (id, status) => service.onFinished(id, status),
      logger,
    }),
  );
  service.addCloser(() => {
    deps.runner.setHooks('template', undefined);
    return Promise.resolve();
  });

  if (config.templatesDir !== undefined) {
    const { loaded, failed } = await templates.loadDirectory(config.templatesDir, logger);
    logger.info({ templatesDir: config.templatesDir, templates: loaded.length, invalid: failed.length }, 'templates loaded');
  }
  return service;
}
