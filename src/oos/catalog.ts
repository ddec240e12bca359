/** Template files in a folder (e.g. `flows/templates/`), loaded by name (the file's base name). */
import { readdir, readFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { loadTemplateText } from './compile.js';
import type { CompiledTemplate, CompileTemplateOptions } from './compile.js';
import { TemplateDefinitionError } from './errors.js';
import type { Problem } from './errors.js';

/** File names holding templates: `.yml`, `.yaml`, `.json`. */
export const TEMPLATE_FILE_PATTERN = /\.(ya?ml|json)$/i;

export interface LoadedTemplate {
  name: string;
  path: string;
  /** The content as read (GetTemplate / GetExecutionTemplate return it). */
  content: string;
  template: CompiledTemplate;
}

/**
 * Loads every template file directly inside `dir` (not subfolders). Returns the loaded templates by
 * name and the problems of files that do not compile, by path. A missing folder loads nothing.
 */
export async function loadTemplateDirectory(
  dir: string,
  options: Omit<CompileTemplateOptions, 'name'> = {},
): Promise<{ templates: Map<string, LoadedTemplate>; failures: Map<string, Problem[]> }> {
  const templates = new Map<string, LoadedTemplate>();
  const failures = new Map<string, Problem[]>();
  let names: string[];
  try {
    names = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isFile() && TEMPLATE_FILE_PATTERN.test(e.name)).map((e) => e.name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { templates, failures };
    throw err;
  }
  for (const file of names.sort()) {
    const path = join(dir, file);
    const name = basename(file, extname(file));
    const content = await readFile(path, 'utf8');
    try {
      templates.set(name, { name, path, content, template: loadTemplateText(content, { ...options, name }) });
    } catch (err) {
      if (err instanceof TemplateDefinitionError) failures.set(path, err.problems);
      else throw err;
    }
  }
  return { templates, failures };
}
