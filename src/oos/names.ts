/** Template names (oos.md §4.1): 1–200 letters, digits, `-`, `_`; no reserved prefix. */
import { RESERVED_TEMPLATE_PREFIXES, TEMPLATE_NAME_PATTERN } from './limits.js';

/** Sentences describing what is wrong with a template name; empty when it is valid. */
export function validateTemplateName(name: string): string[] {
  const problems: string[] = [];
  if (!TEMPLATE_NAME_PATTERN.test(name)) {
    problems.push(
      name.length === 0
        ? 'a template name cannot be empty'
        : name.length > 200
          ? `a template name has at most 200 characters (this one has ${name.length})`
          : `a template name may only contain letters, digits, '-' and '_' (got ${JSON.stringify(name)})`,
    );
  }
  const prefix = RESERVED_TEMPLATE_PREFIXES.find((p) => name.toUpperCase().startsWith(p));
  if (prefix) problems.push(`a template name cannot start with ${prefix} (reserved prefixes: ${RESERVED_TEMPLATE_PREFIXES.join(', ')})`);
  return problems;
}
