import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { compileFlow, FlowDefinitionError } from './compile.js';
import type { CompileOptions } from './compile.js';
import type { CompiledFlow } from './graph.js';
import { parseDefinitionText } from './parse.js';

/** Parses (YAML or JSON), validates and compiles a definition text. Throws FlowDefinitionError. */
export function loadFlowText(text: string, fileName?: string, options: CompileOptions = {}): CompiledFlow {
  const parsed = parseDefinitionText(text, fileName);
  if (!parsed.ok) throw new FlowDefinitionError(parsed.problems, fileName);
  const defaultName = options.defaultName ?? (fileName ? basename(fileName, extname(fileName)) : undefined);
  return compileFlow(parsed.document, { ...options, ...(defaultName ? { defaultName } : {}) }, fileName);
}

/** Reads and compiles a flow file. */
export async function loadFlowFile(path: string, options: CompileOptions = {}): Promise<CompiledFlow> {
  return loadFlowText(await readFile(path, 'utf8'), path, options);
}
