/** Every limit flowrun enforces, named once. Sizes in bytes, durations in milliseconds. */

/** A state's input and output must each be a JSON object of at most this size (CloudFlow: 64 KiB). */
export const MAX_STATE_IO_BYTES = 64 * 1024;
/**
 * State transitions (state entries) one execution may make before it fails: CloudFlow's limit of
 * 5,000 events per execution. flowrun counts state entries, so the bookkeeping events of Map
 * iterations and Parallel branches do not eat into it.
 */
export const MAX_TRANSITIONS_PER_EXECUTION = 5_000;
/** Longest an express (synchronous) execution may run (CloudFlow: 5 minutes). */
export const EXPRESS_EXECUTION_TIMEOUT_MS = 5 * 60 * 1000;
/** Longest a standard execution may run (CloudFlow: 1 year). */
export const STANDARD_EXECUTION_TIMEOUT_MS = 365 * 24 * 60 * 60 * 1000;
/** Parallel states may have at most this many branches. */
export const MAX_PARALLEL_BRANCHES = 50;
/** Inline Map MaxConcurrency upper bound. */
export const MAX_MAP_CONCURRENCY = 40;
/** Inline Map concurrency when MaxConcurrency is absent or 0. */
export const DEFAULT_MAP_CONCURRENCY = 40;
/** Wait Seconds range for express flows. */
export const EXPRESS_WAIT_SECONDS = { min: 1, max: 20 } as const;
/** Wait Seconds range for standard flows. */
export const STANDARD_WAIT_SECONDS = { min: 1, max: 300 } as const;
/** Retry IntervalSeconds and MaxBackoffSeconds cap. */
export const MAX_RETRY_INTERVAL_SECONDS = 86_400;
/** Built-in function calls may nest at most this deep. */
export const MAX_FUNCTION_NESTING = 10;
/** Global variable key and value sizes. */
export const MAX_GLOBAL_KEY_BYTES = 128;
export const MAX_GLOBAL_VALUE_BYTES = 256 * 1024;
/** Flow and execution names: letters, digits, `_`, `-`; starts with a letter or `_`; 1–128 chars. */
export const NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_-]{0,127}$/;
