/** Times and durations as OOS templates write them (UTC ISO-8601 times; ISO or short durations). */

/** `2019-05-16T10:26:14Z` (UTC, seconds precision), the time format of the OOS API. */
export function formatUtc(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/**
 * Milliseconds since the epoch of a UTC time: ISO-8601 with `Z` or an offset, with or without
 * seconds (`2019-05-16T10:26Z`), or a date alone (`2019-05-16`, midnight UTC). A time without a
 * zone is read as UTC. Undefined when unreadable.
 */
export function parseUtc(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value !== 'string') return undefined;
  let text = value.trim();
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) text += 'T00:00:00Z';
  else if (/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(text)) text = `${text.replace(' ', 'T')}Z`;
  if (!/^\d{4}-\d{2}-\d{2}T/.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

const ISO_DURATION = /^P(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/i;
const SHORT_UNIT_SECONDS: Record<string, number> = { w: 604_800, d: 86_400, h: 3_600, m: 60, s: 1 };

/**
 * Seconds of a duration: ISO-8601 (`PT15M`, `P1DT2H`, `PT1.5S`), the short form of ACS::Sleep
 * (`15m`, `1H2M`, `30s`, `2d`; case-insensitive), or a plain number of seconds. Undefined when
 * unreadable (or negative).
 */
export function parseDurationSeconds(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (text === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  const iso = ISO_DURATION.exec(text);
  if (iso && text.toUpperCase() !== 'P' && !text.toUpperCase().endsWith('T')) {
    const [w, d, h, m, s] = iso.slice(1).map((x) => (x === undefined ? 0 : Number(x)));
    return (w ?? 0) * 604_800 + (d ?? 0) * 86_400 + (h ?? 0) * 3_600 + (m ?? 0) * 60 + (s ?? 0);
  }
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)\s*([wdhms])/gi)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('').replace(/\s/g, '') !== text.replace(/\s/g, '')) return undefined;
  return parts.reduce((sum, p) => sum + Number(p[1]) * (SHORT_UNIT_SECONDS[(p[2] ?? 's').toLowerCase()] ?? 1), 0);
}

/** ISO-8601 duration of a number of seconds: `PT90S` → `PT1M30S`, `0` → `PT0S`. */
export function formatDuration(seconds: number): string {
  let rest = Math.max(0, Math.round(seconds));
  const d = Math.floor(rest / 86_400);
  rest -= d * 86_400;
  const h = Math.floor(rest / 3_600);
  rest -= h * 3_600;
  const m = Math.floor(rest / 60);
  const s = rest - m * 60;
  let out = `P${d > 0 ? `${d}D` : ''}`;
  if (h > 0 || m > 0 || s > 0 || d === 0) out += `T${h > 0 ? `${h}H` : ''}${m > 0 ? `${m}M` : ''}${s > 0 || (h === 0 && m === 0) ? `${s}S` : ''}`;
  return out;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** strftime in UTC: %Y %m %d %H %M %S %y %j %a %b %p %f %Z %z %%; other text is copied. */
export function strftimeUtc(ms: number, format: string): string {
  const d = new Date(ms);
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
  const start = Date.UTC(d.getUTCFullYear(), 0, 1);
  return format.replace(/%([A-Za-z%])/g, (whole, c: string) => {
    switch (c) {
      case 'Y':
        return String(d.getUTCFullYear());
      case 'y':
        return pad(d.getUTCFullYear() % 100);
      case 'm':
        return pad(d.getUTCMonth() + 1);
      case 'd':
        return pad(d.getUTCDate());
      case 'H':
        return pad(d.getUTCHours());
      case 'M':
        return pad(d.getUTCMinutes());
      case 'S':
        return pad(d.getUTCSeconds());
      case 'f':
        return pad(d.getUTCMilliseconds() * 1000, 6);
      case 'j':
        return pad(Math.floor((ms - start) / 86_400_000) + 1, 3);
      case 'a':
        return DAYS[d.getUTCDay()] ?? '';
      case 'b':
        return MONTHS[d.getUTCMonth()] ?? '';
      case 'p':
        return d.getUTCHours() < 12 ? 'AM' : 'PM';
      case 'Z':
        return 'UTC';
      case 'z':
        return '+0000';
      case '%':
        return '%';
      default:
        return whole;
    }
  });
}
