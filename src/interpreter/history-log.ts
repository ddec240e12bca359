/**
 * A compact history: what the in-memory run loop records instead of one {@link HistoryEvent}
 * object per event when the history is kept past the execution (the recent-executions window).
 *
 * The window keeps each express execution for a while after it ends, long enough for V8 to move
 * it to the old generation, and a 10-state flow has 22 events. As objects (each with its time
 * boxed) they are 45 heap objects and about 1.6 KB per execution to copy, promote and later mark;
 * here they are a couple of arrays of pointers to the (shared) type and state names: ids are
 * consecutive and times equal (an execution that ends in its first step) until they are not, and
 * only the few events with a path or a detail carry more. `events()` gives the objects back.
 */
import type { JsonObject } from '../shared/json.js';
import type { HistoryEvent, HistoryEventType } from './types.js';

export class HistoryLog {
  /** Each event's type and step name (undefined: none), two slots per event. */
  #typeSteps: (string | undefined)[] = [];
  #length = 0;
  /** Id of the first event; the others follow one by one unless `#ids` holds them. */
  #firstId = 0;
  #ids: number[] | undefined;
  /** Time of every event while they all share one; `#times` holds them once they differ. */
  #time = 0;
  #times: number[] | undefined;
  /** Events with a path or a detail: `[index, path, detail]` triples, in order. */
  #extras: (number | readonly number[] | JsonObject | undefined)[] | undefined;

  get length(): number {
    return this.#length;
  }

  /** Appends an event (`path` only when not empty, as in {@link HistoryEvent}). */
  push(id: number, type: HistoryEventType, time: number, step?: string, path?: readonly number[], detail?: JsonObject): void {
    const i = this.#length;
    if (i === 0) {
      this.#firstId = id;
      this.#time = time;
    }
    if (this.#ids) this.#ids.push(id);
    else if (id !== this.#firstId + i) this.#ids = [...Array.from({ length: i }, (_, k) => this.#firstId + k), id];
    if (this.#times) this.#times.push(time);
    else if (time !== this.#time) this.#times = [...new Array<number>(i).fill(this.#time), time];
    this.#typeSteps.push(type, step);
    if (path !== undefined || detail !== undefined) (this.#extras ??= []).push(i, path, detail);
    this.#length = i + 1;
  }

  /** The events from index `from` to `to` (exclusive), as objects. */
  events(from = 0, to = this.#length): HistoryEvent[] {
    const start = Math.max(0, from);
    const end = Math.min(to, this.#length);
    const out: HistoryEvent[] = [];
    for (let i = start; i < end; i++) {
      const id = this.#ids ? (this.#ids[i] as number) : this.#firstId + i;
      const time = this.#times ? (this.#times[i] as number) : this.#time;
      const type = this.#typeSteps[2 * i] as HistoryEventType;
      const step = this.#typeSteps[2 * i + 1];
      out.push(step === undefined ? { id, type, time } : { id, type, time, step });
    }
    const extras = this.#extras;
    if (extras) {
      for (let k = 0; k < extras.length; k += 3) {
        const event = out[(extras[k] as number) - start];
        if (!event) continue;
        const path = extras[k + 1] as readonly number[] | undefined;
        const detail = extras[k + 2] as JsonObject | undefined;
        if (path !== undefined) event.path = path;
        if (detail !== undefined) event.detail = detail;
      }
    }
    return out;
  }
}
