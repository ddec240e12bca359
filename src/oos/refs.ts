/**
 * `{{ }}` references inside template strings: `{{ param }}`, `{{ task.output }}`, `{{ task.jq.path }}`
 * (template Outputs), `{{ param.jq.path }}` (a field of a Json parameter), pseudo parameters
 * `{{ ACS::RegionId }}` (case-insensitive), `{{ ACS::TaskLoopItem.field }}`, and parameter-store
 * values `{{ oos:name }}` / `{{ oos-secret:name }}`. Text between braces that does not have the shape
 * of a reference (`{{ .Values.x }}`, `{{ a b }}`) is left as it is.
 */

/** Every pseudo parameter, by canonical name. */
export const PSEUDO_PARAMETERS = [
  'RegionId',
  'ExecutionId',
  'TaskLoopItem',
  'AccountId',
  'CurrentUTCTime',
  'CurrentDate',
  'ExecuteUser',
  'OOSUtilVersion',
  'TemplateName',
] as const;
export type PseudoParameter = (typeof PSEUDO_PARAMETERS)[number];

const PSEUDO_BY_LOWER = new Map<string, PseudoParameter>(PSEUDO_PARAMETERS.map((p) => [p.toLowerCase(), p]));

export type RefSyntax =
  /** `ACS::Name` plus an optional jq path (`.a`, `[0]`). `name` undefined: unknown pseudo parameter. */
  | { kind: 'pseudo'; written: string; name: PseudoParameter | undefined; path: string | undefined }
  /** `oos:name` / `oos-secret:name`. */
  | { kind: 'store'; secret: boolean; name: string }
  /** `head` (a parameter or a task) plus an optional rest (`.output`, `.jq.path`, `[0]`). */
  | { kind: 'name'; head: string; rest: string | undefined };

/** A string split into literal text and references. */
export interface ParsedTemplateString {
  parts: (string | { source: string; ref: RefSyntax })[];
  /** True when the whole string (ignoring surrounding blanks) is exactly one reference. */
  whole: boolean;
  /** True when at least one reference was found. */
  dynamic: boolean;
}

const BRACES = /\{\{([^{}]*?)\}\}/g;
const PSEUDO = /^acs::([A-Za-z]+)((?:\.|\[).*)?$/i;
const STORE = /^oos(-secret)?:(\S+)$/i;
const NAME = /^([A-Za-z0-9_][A-Za-z0-9_-]*)((?:\.|\[).*)?$/;

/** Parses the text between `{{` and `}}`; undefined when it is not a reference. */
export function parseRef(inner: string): RefSyntax | undefined {
  const text = inner.trim();
  let m = PSEUDO.exec(text);
  if (m) {
    const written = m[1] ?? '';
    return { kind: 'pseudo', written, name: PSEUDO_BY_LOWER.get(written.toLowerCase()), path: m[2] };
  }
  m = STORE.exec(text);
  if (m) return { kind: 'store', secret: m[1] !== undefined, name: m[2] ?? '' };
  m = NAME.exec(text);
  if (m) return { kind: 'name', head: m[1] ?? '', rest: m[2] };
  return undefined;
}

/** Splits `text` into literal parts and references. */
export function parseTemplateString(text: string): ParsedTemplateString {
  const parts: ParsedTemplateString['parts'] = [];
  let last = 0;
  let refs = 0;
  for (const m of text.matchAll(BRACES)) {
    const ref = parseRef(m[1] ?? '');
    if (!ref) continue;
    const at = m.index ?? 0;
    if (at > last) parts.push(text.slice(last, at));
    parts.push({ source: m[0], ref });
    last = at + m[0].length;
    refs++;
  }
  if (last < text.length) parts.push(text.slice(last));
  const nonBlank = parts.filter((p) => typeof p !== 'string' || p.trim() !== '');
  return { parts, whole: refs === 1 && nonBlank.length === 1 && typeof nonBlank[0] !== 'string', dynamic: refs > 0 };
}

/** The jq program reading `rest` (`.a.b`, `[0]`, `.x[]?.y`) from a value. */
export function jqPathOf(rest: string): string {
  return rest.startsWith('.') ? rest : `.${rest}`;
}
