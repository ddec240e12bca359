export { compileFlow, FlowDefinitionError } from './compile.js';
export type { CompileOptions, TaskChecker } from './compile.js';
export type * from './graph.js';
export { END } from './graph.js';
export { validateDefinition, formatProblems } from './validate.js';
export type { Problem } from './validate.js';
export { parseDefinitionText } from './parse.js';
export { loadFlowText, loadFlowFile } from './load.js';
export { FlowCatalog, FLOW_FILE_PATTERN } from './catalog.js';
