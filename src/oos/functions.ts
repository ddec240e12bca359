/**
 * The `Fn::` functions of OOS templates (oos.md §1.7): every documented one plus those public
 * templates use (MergeList, Sum, RangeSelect, ContainsSubString). Each receives its argument
 * already evaluated (references resolved, inner functions applied), except If/And/Or, which
 * evaluate only the parts they need. Semantics are described in own words; where OOS's exact rule
 * is not documented the choice is marked UNCONFIRMED (and listed in src/oos/README.md).
 *
 * Bodies throw plain Errors; the value compiler turns them into `OOS.FunctionError` naming the
 * function.
 */
import { isIP } from 'node:net';
import { jqValues } from '../engine/actions/jq.js';
import { isJsonObject, jsonTypeName } from '../shared/json.js';
import type { Json, JsonObject } from '../shared/json.js';
import { interpolationText, looseEquals, toBoolean } from './convert.js';
import { evaluateExpression } from './eval-expr.js';
import { formatDuration, formatUtc, parseUtc, strftimeUtc } from './time.js';
import type { OosEnv, OosValue } from './values.js';

export interface FnSpec {
  /** How the argument is written, for messages. */
  shape: string;
  /** Element count when the argument is written as a list: [min, max]. */
  arity?: [number, number];
  /** The argument must be a list (checked at compile time when it is written literally). */
  needsList?: boolean;
  /** Evaluates the elements it needs (argument written as a literal list). */
  lazy?: (parts: OosValue[], env: OosEnv) => Json;
  /** Evaluates with the whole argument already evaluated. */
  evaluate: (arg: Json, env: OosEnv) => Json;
}

/** Functions OOS documents that flowrun does not implement (reported as such at validation). */
export const UNSUPPORTED_FUNCTIONS = ['Fn::CalculateBatch', 'Fn::FindMatchedPackage', 'Fn::GetAtt'];

function list(value: Json, what: string): Json[] {
  if (Array.isArray(value)) return value;
  throw new Error(`${what} must be a list, got ${jsonTypeName(value)}`);
}

function args(value: Json, count: number, shape: string): Json[] {
  const a = list(value, 'the argument');
  if (a.length < count) throw new Error(`needs ${shape}, got ${a.length} argument${a.length === 1 ? '' : 's'}`);
  return a;
}

function str(value: Json, what: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new Error(`${what} must be a string, got ${jsonTypeName(value)}`);
}

function numberOf(value: Json, what: string): number {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  throw new Error(`${what} must be a number, got ${JSON.stringify(value)}`);
}

function map(value: Json, what: string): JsonObject {
  if (isJsonObject(value)) return value;
  throw new Error(`${what} must be a mapping, got ${jsonTypeName(value)}`);
}

/** A list argument, possibly wrapped in a one-element list (`[ '{{ listParam }}' ]`). */
function listArg(value: Json): Json {
  return Array.isArray(value) && value.length === 1 && Array.isArray(value[0]) ? (value[0] as Json) : value;
}

/** A single argument written either bare or as a one-element list. */
function single(value: Json): Json {
  return Array.isArray(value) && value.length === 1 ? (value[0] as Json) : value;
}

function time(value: Json, what: string): number {
  const ms = parseUtc(value);
  if (ms === undefined) throw new Error(`${what} must be a UTC time such as 2024-01-01T00:00:00Z, got ${JSON.stringify(value)}`);
  return ms;
}

const key = (v: Json): string => JSON.stringify(v);

function unique(values: Json[]): Json[] {
  const seen = new Set<string>();
  return values.filter((v) => {
    const k = key(v);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function compareValues(a: Json, b: Json): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const na = typeof a === 'string' && a.trim() !== '' ? Number(a) : Number.NaN;
  const nb = typeof b === 'string' && b.trim() !== '' ? Number(b) : Number.NaN;
  const x = typeof a === 'number' ? a : na;
  const y = typeof b === 'number' ? b : nb;
  if (!Number.isNaN(x) && !Number.isNaN(y)) return x - y;
  return interpolationText(a) < interpolationText(b) ? -1 : interpolationText(a) > interpolationText(b) ? 1 : 0;
}

function ipv4ToBigInt(ip: string): bigint {
  return ip.split('.').reduce((acc, part) => (acc << 8n) + BigInt(Number(part)), 0n);
}

function ipv6ToBigInt(ip: string): bigint {
  let text = ip;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4?.[1]) {
    const n = ipv4ToBigInt(v4[1]);
    text = text.slice(0, -v4[1].length) + `${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? h : [...h, ...new Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.reduce((acc, g) => (acc << 16n) + BigInt(Number.parseInt(g, 16)), 0n);
}

function ipInCidr(ip: string, cidr: string): boolean {
  const [base = '', bitsText] = cidr.split('/');
  const family = isIP(ip);
  if (family === 0) throw new Error(`${JSON.stringify(ip)} is not an IP address`);
  if (isIP(base) === 0) throw new Error(`${JSON.stringify(cidr)} is not a CIDR block`);
  if (isIP(base) !== family) return false;
  const width = family === 4 ? 32 : 128;
  const bits = bitsText === undefined ? width : Number(bitsText);
  if (!Number.isInteger(bits) || bits < 0 || bits > width) throw new Error(`${JSON.stringify(cidr)} has an invalid prefix length`);
  const toInt = family === 4 ? ipv4ToBigInt : ipv6ToBigInt;
  const shift = BigInt(width - bits);
  return toInt(ip) >> shift === toInt(base) >> shift;
}

function escapeFor(text: string, kind: string): string {
  switch (kind.toLowerCase()) {
    case 'powershell':
      return text.replace(/[`$"']/g, (c) => (c === "'" ? "''" : `\`${c}`));
    case 'shell':
    case 'bash':
    case 'sh':
      return `'${text.replace(/'/g, `'\\''`)}'`;
    case 'json':
      return JSON.stringify(text).slice(1, -1);
    default:
      throw new Error(`unknown escape kind ${JSON.stringify(kind)} (powershell, shell or json)`);
  }
}

/** Parses 'HH:MM' / 'HH:MM:SS' into seconds of the day. */
function timeOfDay(value: Json, what: string): number {
  const m = /^(\d{1,2}):(\d{2})(?::(\d{2}))?$/.exec(str(value, what).trim());
  if (!m) throw new Error(`${what} must be a time of day HH:MM[:SS], got ${JSON.stringify(value)}`);
  return Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3] ?? 0);
}

const DAY_MS = 86_400_000;

export const FUNCTIONS: Record<string, FnSpec> = {
  'Fn::Base64Encode': { shape: 'a string', evaluate: (a) => Buffer.from(str(single(a), 'the argument'), 'utf8').toString('base64') },
  'Fn::Base64Decode': {
    shape: 'a Base64 string',
    evaluate: (a) => {
      const text = str(single(a), 'the argument').trim();
      if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(text)) throw new Error(`${JSON.stringify(text.slice(0, 40))} is not Base64`);
      return Buffer.from(text, 'base64').toString('utf8');
    },
  },
  'Fn::MergeMapToList': {
    shape: '[{key1: [values…]}, {key2: [values…]}, …]',
    needsList: true,
    evaluate: (a) => {
      // Zips the maps' lists by position; the result is as long as the longest list and a shorter
      // list repeats its last value (ROS's documented rule; OOS's is not documented).
      const columns: [string, Json[]][] = [];
      for (const m of list(a, 'the argument')) {
        for (const [k, v] of Object.entries(map(m, 'each element'))) columns.push([k, Array.isArray(v) ? v : [v]]);
      }
      const length = Math.max(0, ...columns.map(([, v]) => v.length));
      return Array.from({ length }, (_, i) => {
        const row: JsonObject = {};
        for (const [k, v] of columns) if (v.length > 0) row[k] = (v[Math.min(i, v.length - 1)] ?? null) as Json;
        return row;
      });
    },
  },
  'Fn::MergeMap': {
    shape: '[map1, map2, …]',
    needsList: true,
    evaluate: (a) => Object.assign({}, ...list(a, 'the argument').map((m, i) => map(m, `element ${i}`))) as JsonObject,
  },
  'Fn::Join': {
    shape: '[delimiter, [values…]]',
    arity: [2, 2],
    evaluate: (a) => {
      const [delimiter, values] = args(a, 2, '[delimiter, list]');
      return list(values as Json, 'the second argument').map(interpolationText).join(str(delimiter as Json, 'the delimiter'));
    },
  },
  'Fn::Select': {
    shape: '[indexOrKey, listOrMap]',
    arity: [2, 2],
    evaluate: (a) => {
      const [index, container] = args(a, 2, '[indexOrKey, listOrMap]') as [Json, Json];
      if (Array.isArray(container)) {
        const i = numberOf(index, 'the index');
        const at = i < 0 ? container.length + i : i;
        if (!Number.isInteger(at) || at < 0 || at >= container.length) throw new Error(`index ${i} is out of range for a list of ${container.length}`);
        return container[at] as Json;
      }
      if (isJsonObject(container)) {
        const k = str(index, 'the key');
        if (!Object.hasOwn(container, k)) throw new Error(`the mapping has no key ${JSON.stringify(k)} (keys: ${Object.keys(container).join(', ')})`);
        return container[k] as Json;
      }
      throw new Error(`the second argument must be a list or a mapping, got ${jsonTypeName(container)}`);
    },
  },
  'Fn::Split': {
    shape: '[delimiter, string]',
    arity: [2, 2],
    evaluate: (a) => {
      const [delimiter, text] = args(a, 2, '[delimiter, string]') as [Json, Json];
      return str(text, 'the string').split(str(delimiter, 'the delimiter'));
    },
  },
  'Fn::Replace': {
    shape: '[{old: new, …}, string]',
    arity: [2, 2],
    evaluate: (a) => {
      const [pairs, text] = args(a, 2, '[{old: new}, string]') as [Json, Json];
      let out = str(text, 'the string');
      for (const [from, to] of Object.entries(map(pairs, 'the first argument'))) out = out.split(from).join(interpolationText(to));
      return out;
    },
  },
  'Fn::Min': { shape: '[values…]', needsList: true, evaluate: (a) => list(listArg(a), 'the argument').reduce<Json>((m, v) => (m === null || compareValues(v, m) < 0 ? v : m), null) },
  'Fn::Max': { shape: '[values…]', needsList: true, evaluate: (a) => list(listArg(a), 'the argument').reduce<Json>((m, v) => (m === null || compareValues(v, m) > 0 ? v : m), null) },
  'Fn::First': { shape: '[values…]', needsList: true, evaluate: (a) => list(listArg(a), 'the argument')[0] ?? null },
  'Fn::Last': {
    shape: '[values…]',
    needsList: true,
    evaluate: (a) => {
      const l = list(listArg(a), 'the argument');
      return l[l.length - 1] ?? null;
    },
  },
  'Fn::ListJoin': { shape: '[value1, value2, …]', evaluate: (a) => (Array.isArray(a) ? a : [a]) },
  'Fn::MergeList': {
    shape: '[list1, list2, …]',
    evaluate: (a) => {
      // Flattens one level: lists are concatenated, other elements kept (inferred).
      const out: Json[] = [];
      for (const item of Array.isArray(a) ? a : [a]) {
        if (Array.isArray(item)) out.push(...item);
        else out.push(item);
      }
      return out;
    },
  },
  'Fn::Equals': {
    shape: '[value1, value2]',
    arity: [2, 2],
    evaluate: (a) => {
      const [x, y] = args(a, 2, '[value1, value2]') as [Json, Json];
      return looseEquals(x, y);
    },
  },
  'Fn::If': {
    shape: '[condition, valueIfTrue, valueIfFalse]',
    arity: [3, 3],
    lazy: (parts, env) => (toBoolean((parts[0] as OosValue)(env), 'the condition') ? (parts[1] as OosValue)(env) : (parts[2] as OosValue)(env)),
    evaluate: (a) => {
      const [c, t, f] = args(a, 3, '[condition, then, else]') as [Json, Json, Json];
      return toBoolean(c, 'the condition') ? t : f;
    },
  },
  'Fn::Not': { shape: 'a condition', evaluate: (a) => !toBoolean(single(a), 'the condition') },
  'Fn::And': {
    shape: '[condition1, condition2, …]',
    arity: [1, Infinity],
    lazy: (parts, env) => parts.every((p, i) => toBoolean(p(env), `condition ${i}`)),
    evaluate: (a) => list(a, 'the argument').every((c, i) => toBoolean(c, `condition ${i}`)),
  },
  'Fn::Or': {
    shape: '[condition1, condition2, …]',
    arity: [1, Infinity],
    lazy: (parts, env) => parts.some((p, i) => toBoolean(p(env), `condition ${i}`)),
    evaluate: (a) => list(a, 'the argument').some((c, i) => toBoolean(c, `condition ${i}`)),
  },
  'Fn::AddHour': {
    shape: '[utcTime, hours]',
    arity: [2, 2],
    evaluate: (a) => {
      const [t, h] = args(a, 2, '[utcTime, hours]') as [Json, Json];
      return formatUtc(time(t, 'the time') + numberOf(h, 'the hours') * 3_600_000);
    },
  },
  'Fn::FormatUTCTime': {
    shape: '[utcTime, format]',
    arity: [2, 2],
    evaluate: (a) => {
      const [t, f] = args(a, 2, '[utcTime, format]') as [Json, Json];
      return strftimeUtc(time(t, 'the time'), str(f, 'the format'));
    },
  },
  'Fn::Eval': { shape: '[expression]', evaluate: (a) => evaluateExpression(str(single(a), 'the expression')) },
  'Fn::CalculateTimeByOpsWindow': {
    // UNCONFIRMED argument shape: [windowStart 'HH:MM[:SS]', windowEnd] in UTC. Returns the current
    // time when it is inside the window, else the next start of the window (a UTC time).
    shape: '[windowStart HH:MM, windowEnd HH:MM]',
    arity: [2, 2],
    evaluate: (a, env) => {
      const [s, e] = args(a, 2, '[windowStart, windowEnd]') as [Json, Json];
      const start = timeOfDay(s, 'the window start') * 1000;
      const end = timeOfDay(e, 'the window end') * 1000;
      const now = env.now();
      const dayStart = Math.floor(now / DAY_MS) * DAY_MS;
      const sinceMidnight = now - dayStart;
      const inside = start <= end ? sinceMidnight >= start && sinceMidnight < end : sinceMidnight >= start || sinceMidnight < end;
      if (inside) return formatUtc(now);
      return formatUtc(sinceMidnight < start ? dayStart + start : dayStart + DAY_MS + start);
    },
  },
  'Fn::Intersection': {
    shape: '[list1, list2, …]',
    needsList: true,
    evaluate: (a) => {
      const lists = list(a, 'the argument').map((l, i) => list(l, `element ${i}`));
      const [first = [], ...others] = lists;
      const sets = others.map((l) => new Set(l.map(key)));
      return unique(first.filter((v) => sets.every((s) => s.has(key(v)))));
    },
  },
  'Fn::Union': {
    shape: '[list1, list2, …]',
    needsList: true,
    evaluate: (a) => unique(list(a, 'the argument').flatMap((l, i) => list(l, `element ${i}`))),
  },
  'Fn::Difference': {
    // The union minus the intersection (the documented definition), in first-seen order.
    shape: '[list1, list2, …]',
    needsList: true,
    evaluate: (a) => {
      const lists = list(a, 'the argument').map((l, i) => list(l, `element ${i}`));
      const sets = lists.map((l) => new Set(l.map(key)));
      return unique(lists.flat()).filter((v) => !sets.every((s) => s.has(key(v))));
    },
  },
  'Fn::Jq': {
    shape: '[First|All, jqExpression, input]',
    arity: [3, 3],
    evaluate: (a) => {
      const [mode, expr, input] = args(a, 3, '[First|All, expression, input]') as [Json, Json, Json];
      const m = str(mode, 'the mode').toLowerCase();
      if (m !== 'first' && m !== 'all') throw new Error(`the mode must be First or All, got ${JSON.stringify(mode)}`);
      // A string input holding a JSON object or list is parsed (templates write '{"": ""}').
      let data = input;
      if (typeof input === 'string' && /^\s*[[{]/.test(input)) {
        try {
          data = JSON.parse(input) as Json;
        } catch {
          data = input;
        }
      }
      const values = jqValues(str(expr, 'the expression'), data);
      return m === 'first' ? (values[0] ?? null) : values;
    },
  },
  'Fn::MapJoin': {
    shape: '[[keys…], [values…]]',
    arity: [2, 2],
    evaluate: (a) => {
      const [keys, values] = args(a, 2, '[keys, values]') as [Json, Json];
      const ks = list(keys, 'the keys');
      const vs = list(values, 'the values');
      const out: JsonObject = {};
      ks.forEach((k, i) => {
        out[str(k, `key ${i}`)] = (vs[i] ?? null) as Json;
      });
      return out;
    },
  },
  'Fn::IsIpInCIDR': {
    shape: '[ip, cidr]',
    arity: [2, 2],
    evaluate: (a) => {
      const [ip, cidr] = args(a, 2, '[ip, cidr]') as [Json, Json];
      return ipInCidr(str(ip, 'the IP').trim(), str(cidr, 'the CIDR block').trim());
    },
  },
  'Fn::Sub': {
    // [text, {name: value}] replaces ${name}; a bare string replaces ${parameter} with parameters.
    shape: '[text, {name: value, …}] or text',
    evaluate: (a, env) => {
      const [text, vars] = Array.isArray(a) ? [a[0] ?? '', a[1] ?? {}] : [a, env.parameters];
      const values = map(vars as Json, 'the variables');
      return str(text as Json, 'the text').replace(/\$\{([^}]+)\}/g, (whole, name: string) =>
        Object.hasOwn(values, name.trim()) ? interpolationText(values[name.trim()] as Json) : whole,
      );
    },
  },
  'Fn::DurationBetween': {
    // The ISO-8601 duration from the first time to the second (PT0S when the second is earlier),
    // usable as ACS::Sleep Duration.
    shape: '[utcTime1, utcTime2]',
    arity: [2, 2],
    evaluate: (a) => {
      const [t1, t2] = args(a, 2, '[time1, time2]') as [Json, Json];
      return formatDuration((time(t2, 'the second time') - time(t1, 'the first time')) / 1000);
    },
  },
  'Fn::Escape': {
    // UNCONFIRMED kinds: powershell (default), shell, json.
    shape: '[string, powershell|shell|json]',
    arity: [1, 2],
    evaluate: (a) => {
      const [text, kind] = Array.isArray(a) ? [a[0] ?? '', a[1] ?? 'powershell'] : [a, 'powershell'];
      return escapeFor(str(text as Json, 'the string'), str(kind as Json, 'the kind'));
    },
  },
  'Fn::ConvertMapToList': {
    shape: 'a mapping',
    evaluate: (a) => Object.entries(map(single(a), 'the argument')).map(([k, v]) => ({ Key: k, Value: v })),
  },
  'Fn::Sum': {
    shape: '[numbers…]',
    needsList: true,
    evaluate: (a) => list(listArg(a), 'the argument').reduce<number>((s, v, i) => s + numberOf(v, `element ${i}`), 0),
  },
  'Fn::RangeSelect': {
    // [start, end, list]: elements start..end inclusive; end -1 = up to the last (inferred).
    shape: '[start, end, list]',
    arity: [3, 3],
    evaluate: (a) => {
      const [s, e, l] = args(a, 3, '[start, end, list]') as [Json, Json, Json];
      const items = list(l, 'the list');
      const start = numberOf(s, 'the start');
      const end = numberOf(e, 'the end');
      return items.slice(start, end < 0 ? items.length + end + 1 : end + 1);
    },
  },
  'Fn::ContainsSubString': {
    // UNCONFIRMED order: [string, substring].
    shape: '[string, substring]',
    arity: [2, 2],
    evaluate: (a) => {
      const [text, part] = args(a, 2, '[string, substring]') as [Json, Json];
      return str(text, 'the string').includes(str(part, 'the substring'));
    },
  },
};

/** Aggregators allowed as `Loop.Outputs.*.AggregateType`: list of per-item values → result. */
export const AGGREGATORS: Record<string, (values: Json[]) => Json> = {
  'Fn::ListJoin': (values) => values,
  'Fn::Sum': (values) => values.reduce<number>((s, v, i) => s + numberOf(v, `item ${i}`), 0),
  'Fn::Max': (values) => (FUNCTIONS['Fn::Max'] as FnSpec).evaluate(values, undefined as unknown as OosEnv),
  'Fn::Min': (values) => (FUNCTIONS['Fn::Min'] as FnSpec).evaluate(values, undefined as unknown as OosEnv),
  'Fn::First': (values) => values[0] ?? null,
  'Fn::Last': (values) => values[values.length - 1] ?? null,
  'Fn::MergeList': (values) => (FUNCTIONS['Fn::MergeList'] as FnSpec).evaluate(values, undefined as unknown as OosEnv),
  'Fn::Union': (values) => unique(values.flatMap((v) => (Array.isArray(v) ? v : [v]))),
};
