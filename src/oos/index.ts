/**
 * The OOS template language: parse (JSON/YAML ≤ 64 KB), validate (schema + semantics + references,
 * every problem with a JSON pointer), check StartExecution parameters, and compile to the shared
 * graph (`CompiledFlow`) that the interpreter runs. The ACS actions live in the task engine
 * (src/engine/actions/acs.ts) and are re-exported here.
 */
export { parseTemplateText, detectFormat } from './parse.js';
export type { TemplateFormat, TemplateParseResult } from './parse.js';
export {
  actionInfo,
  checkParameters,
  compileTemplate,
  END_NODE_NAME,
  itemFailedNodeName,
  loadTemplateText,
  LOOP_ITEM_KEY,
  normalizeSelector,
  outputFromStream,
  resolveConcurrency,
  resolveMaxErrors,
  batchPause,
  strongerPause,
  skippedNodeName,
  toOutputType,
  validateTemplate,
  validateTemplateText,
  whenNodeName,
} from './compile.js';
export type { CompiledTemplate, CompileTemplateOptions, EnvBase, NodeRole, NodeRoleKind, OutputType, TaskKind, TemplateTask } from './compile.js';
export { loadTemplateDirectory, TEMPLATE_FILE_PATTERN } from './catalog.js';
export type { LoadedTemplate } from './catalog.js';
export { validateTemplateName } from './names.js';
export { OosApiErrorCodes, OosErrorNames, TemplateDefinitionError } from './errors.js';
export type { Problem } from './errors.js';
export { ParameterChecker } from './params.js';
export type { ParameterType, TemplateParameter } from './params.js';
export { loopKey, makeEnv, outputKey, resultKey, statusKey, ValueCompiler } from './values.js';
export type { OosEnv, OosValue } from './values.js';
export { interpolationText, looseEquals, toBoolean } from './convert.js';
export { FUNCTIONS, AGGREGATORS, UNSUPPORTED_FUNCTIONS } from './functions.js';
export { PSEUDO_PARAMETERS } from './refs.js';
export { oosTemplateSchema, OOS_TEMPLATE_SCHEMA_URL } from './schema.js';
export * from './limits.js';
export { jqValues, jqSyntaxError, JQ_ERROR, JQ_OUTPUT_LIMIT_BYTES, setJqTimeoutMs } from '../engine/actions/jq.js';
export {
  AcsActions,
  AcsErrorNames,
  createAcsActions,
  DEFAULT_HIGH_RISK_API_PATTERN,
  describeResources,
  isHighRiskApi,
  MAX_TEMPLATE_DEPTH,
  registerAcsActions,
} from '../engine/actions/acs.js';
export type { AcsActionsOptions, ChildTemplateRequest, ChildTemplateResult, ChildTemplateStarter } from '../engine/actions/acs.js';
export { loadAcsFixtures, loadInventory, parseAcsFixtures, parseInventory, ACS_CONFIG_ERROR } from '../engine/actions/acs-config.js';
export type { AcsFixtures, FixtureEntry, Inventory, InventoryResource } from '../engine/actions/acs-config.js';
export { createLocalCommandRunner, MAX_COMMAND_OUTPUT_BYTES } from '../engine/actions/acs-command.js';
export type { CommandRequest, CommandResult, CommandRunner } from '../engine/actions/acs-command.js';
