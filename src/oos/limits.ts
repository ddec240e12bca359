/** Limits and defaults of OOS templates, named once (oos.md §1, §4.4). Durations in seconds unless named *Ms. */

/** The only FormatVersion OOS documents and public templates use. */
export const FORMAT_VERSION = 'OOS-2019-06-01';
/** Largest template content (CreateTemplate/UpdateTemplate `Content`): 64 KB. */
export const MAX_TEMPLATE_BYTES = 64 * 1024;
/** Template names: 1–200 letters, digits, `-`, `_`. */
export const TEMPLATE_NAME_PATTERN = /^[A-Za-z0-9_-]{1,200}$/;
/** Prefixes no user template name may start with (case-insensitive). */
export const RESERVED_TEMPLATE_PREFIXES = ['ALIYUN', 'ACS', 'ALIBABA', 'ALICLOUD'] as const;
/** Task names: 1–200 letters, digits, `-`, `_` (no `:`). */
export const TASK_NAME_PATTERN = /^[A-Za-z0-9_-]{1,200}$/;
/** Parameter names: letters, digits, `_`, `-`. */
export const PARAMETER_NAME_PATTERN = /^[A-Za-z0-9_-]+$/;
/** A loop may run over at most this many items. */
export const MAX_LOOP_ITEMS = 1000;
/** Loop concurrency when neither `Loop.Concurrency` nor `RateControl.Concurrency` is given. */
export const DEFAULT_LOOP_CONCURRENCY = 1;
/** Upper bound of a loop's concurrency (the interpreter's Map cap). */
export const MAX_LOOP_CONCURRENCY = 1000;
/** Concurrency of Batch-mode loops when `ConcurrencyInBatches` is absent. */
export const DEFAULT_BATCH_CONCURRENCY = 20;
/** `Retries` range. */
export const MAX_TASK_RETRIES = 300;
/** `ACS::WaitFor` retries when the task sets none. */
export const DEFAULT_WAITFOR_RETRIES = 10;
/** First retry delay of `DelayType: Exponential` without `Delay` (2^1 s; then 4, 8, …). */
export const DEFAULT_EXPONENTIAL_DELAY_SECONDS = 2;
/** Retry delay of `Constant`/`Linear` without `Delay`. UNCONFIRMED default. */
export const DEFAULT_RETRY_DELAY_SECONDS = 1;
/** Longest ACS::Sleep (one year, the longest execution). */
export const MAX_SLEEP_SECONDS = 365 * 24 * 60 * 60;
/** Region reported by `{{ ACS::RegionId }}` when the execution names none. */
export const DEFAULT_REGION_ID = 'cn-hangzhou';
/** Account reported by `{{ ACS::AccountId }}` when the execution names none. */
export const DEFAULT_ACCOUNT_ID = '1234567890123456';
/** User reported by `{{ ACS::ExecuteUser }}` when the execution names none. */
export const DEFAULT_EXECUTE_USER = 'root(1234567890123456)';
/** Value of `{{ ACS::OOSUtilVersion }}` (an OOS-internal helper version; any string does locally). */
export const OOS_UTIL_VERSION = 'v1';
