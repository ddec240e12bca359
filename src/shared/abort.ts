/**
 * Cancellation without an AbortSignal until someone listens. Node creates a controller's signal
 * lazily, on the first `signal` read or `abort()` call, and creating one costs a few µs (Node 20,
 * more than the rest of a 10-state Pass execution). An express execution that ends in its first
 * step never waits, so nothing ever listens: the request that ran it need not pay for a signal.
 */

/** An AbortController that tells whether it was aborted without creating its signal. */
export class LazyAbortController extends AbortController {
  #aborted = false;

  /** Same as `signal.aborted` (only `abort()` aborts a controller's signal), without reading `signal`. */
  get aborted(): boolean {
    return this.#aborted;
  }

  override abort(reason?: unknown): void {
    this.#aborted = true;
    super.abort(reason);
  }
}

/** Whether `controller` was aborted; reads its signal only when it is not a {@link LazyAbortController}. */
export function isAborted(controller: AbortController): boolean {
  return controller instanceof LazyAbortController ? controller.aborted : controller.signal.aborted;
}
