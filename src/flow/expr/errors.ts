import { ErrorNames, FlowrunError } from '../../shared/errors.js';

/** Longest slice of the source quoted in a syntax error message. */
const MAX_QUOTED_SOURCE = 160;

function quoteSource(source: string, position: number): string {
  if (source.length <= MAX_QUOTED_SOURCE) return source;
  const half = Math.floor(MAX_QUOTED_SOURCE / 2);
  const start = Math.max(0, Math.min(position - half, source.length - MAX_QUOTED_SOURCE));
  const end = start + MAX_QUOTED_SOURCE;
  return `${start > 0 ? '…' : ''}${source.slice(start, end)}${end < source.length ? '…' : ''}`;
}

/**
 * A problem found while compiling an expression (before anything is evaluated).
 * `position` is the 0-based offset in the source, `column` the 1-based column shown in the message.
 */
export class ExpressionSyntaxError extends Error {
  readonly position: number;
  readonly column: number;
  readonly source: string;
  /** The sentence describing the problem, without the position and source. */
  readonly reason: string;

  constructor(source: string, position: number, reason: string) {
    const pos = Math.max(0, Math.min(position, source.length));
    super(`Column ${pos + 1}: ${reason} Expression: ${quoteSource(source, pos)}`);
    this.name = 'ExpressionSyntaxError';
    this.position = pos;
    this.column = pos + 1;
    this.source = source;
    this.reason = reason;
  }
}

/** One problem of a constructor template, located by a JSON pointer relative to the template. */
export interface ConstructorProblem {
  /** RFC 6901 JSON pointer, e.g. `/a~1b/c.$`. */
  pointer: string;
  message: string;
}

/** Every problem found while compiling a constructor template, reported at once. */
export class ConstructorError extends Error {
  readonly problems: ConstructorProblem[];

  constructor(problems: ConstructorProblem[]) {
    const n = problems.length;
    const lines = problems.map((p) => `- ${p.pointer === '' ? '(template)' : p.pointer}: ${p.message}`);
    super(`The constructor has ${n} problem${n === 1 ? '' : 's'}:\n${lines.join('\n')}`);
    this.name = 'ConstructorError';
    this.problems = problems;
  }
}

/** The error thrown when an expression cannot be evaluated at run time. */
export function runtimeError(message: string): FlowrunError {
  return new FlowrunError(ErrorNames.Runtime, message);
}
