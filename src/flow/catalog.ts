import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FlowDefinitionError } from './compile.js';
import type { CompileOptions } from './compile.js';
import type { CompiledFlow } from './graph.js';
import { loadFlowText } from './load.js';
import type { Problem } from './validate.js';

/** File names in a flows folder that hold flow definitions. */
export const FLOW_FILE_PATTERN = /\.(ya?ml|json)$/i;

/** The flows known by name. */
export class FlowCatalog {
  private readonly flows = new Map<string, CompiledFlow>();

  get(name: string): CompiledFlow | undefined {
    return this.flows.get(name);
  }

  set(flow: CompiledFlow): void {
    this.flows.set(flow.name, flow);
  }

  delete(name: string): boolean {
    return this.flows.delete(name);
  }

  names(): string[] {
    return [...this.flows.keys()].sort();
  }

  /**
   * Loads every flow file directly inside `dir` (not its subfolders). Returns the problems of
   * files that do not compile, by file; the others are added.
   */
  async loadDirectory(dir: string, options: CompileOptions = {}): Promise<Map<string, Problem[]>> {
    const failures = new Map<string, Problem[]>();
    let entries: string[];
    try {
      entries = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isFile() && FLOW_FILE_PATTERN.test(e.name)).map((e) => e.name);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return failures;
      throw err;
    }
    for (const name of entries.sort()) {
      const path = join(dir, name);
      try {
        this.set(loadFlowText(await readFile(path, 'utf8'), path, options));
      } catch (err) {
        if (err instanceof FlowDefinitionError) failures.set(path, err.problems);
        else throw err;
      }
    }
    return failures;
  }
}
