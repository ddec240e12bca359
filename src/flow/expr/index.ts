/**
 * The CloudFlow expression language: paths (`$Input.a[0]`, `$.a`, JSONPath), literals, operators,
 * built-in functions and `key.$` constructors, compiled once into closures.
 */
export type { EvalScope, Evaluator, ExpressionOptions } from './types.js';
export { ExpressionSyntaxError, ConstructorError } from './errors.js';
export type { ConstructorProblem } from './errors.js';
export { compileExpression, compileCondition } from './compile.js';
export { compileConstructor, compileValueTemplate, isDynamic } from './constructor.js';
export { BUILTIN_FUNCTIONS } from './functions.js';
