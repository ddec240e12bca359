/** The records and views of the FnF flow service. Views are shaped like the FnF API's responses. */
import type { ErrorInfo } from '../shared/errors.js';
import type { HistoryLog } from '../interpreter/history-log.js';
import type { ExecutionMode } from '../flow/graph.js';

export type { ExecutionMode } from '../flow/graph.js';

/** The only flow definition `Type` the API accepts. */
export const FLOW_TYPE = 'FDL';

/** A flow as a {@link FlowStore} keeps it: plain data (a durable store can persist it as is). */
export interface FlowRecord {
  Name: string;
  /** UUID given at creation; kept across updates and reloads. */
  Id: string;
  /** The definition text as written (YAML or JSON). */
  Definition: string;
  Description: string;
  Type: typeof FLOW_TYPE;
  RoleArn: string;
  ExecutionMode: ExecutionMode;
  /** Epoch ms. */
  CreatedTime: number;
  /** Epoch ms. */
  LastModifiedTime: number;
  /** The file it was loaded from, for flows read from the flows folder. */
  SourceFile?: string;
}

/** DescribeFlow / CreateFlow / ListFlows item. Times are ISO-8601 UTC with milliseconds. */
export interface FlowView {
  Name: string;
  Id: string;
  Definition: string;
  Description: string;
  Type: string;
  RoleArn: string;
  ExecutionMode: ExecutionMode;
  CreatedTime: string;
  LastModifiedTime: string;
}

export type ExecutionStatusName = 'Running' | 'Succeeded' | 'Failed' | 'TimedOut' | 'Stopped';

/** What StartSyncExecution answers (without RequestId). */
export interface SyncExecutionView {
  FlowName: string;
  Name: string;
  Status: Exclude<ExecutionStatusName, 'Running'>;
  /** JSON text of the output, on success. */
  Output?: string;
  ErrorCode?: string;
  ErrorMessage?: string;
  StartedTime: string;
  StoppedTime: string;
}

/** DescribeExecution / ListExecutions item. */
export interface ExecutionView {
  Name: string;
  FlowName: string;
  /** Absent with ListExecutions `MetadataOnly`. */
  FlowDefinition?: string;
  Input?: string;
  Output?: string;
  Status: ExecutionStatusName;
  ErrorCode?: string;
  ErrorMessage?: string;
  StartedTime: string;
  StoppedTime?: string;
}

/** GetExecutionHistory item. */
export interface HistoryEventView {
  EventId: number;
  /** EventId of the TaskScheduled event a Task* event answers (0 otherwise). */
  ScheduleEventId: number;
  StepName: string;
  Type: string;
  Time: string;
  /** JSON text (an object). */
  EventDetail: string;
}

/** One execution kept in the recent-executions window. Mutated while it runs. */
export interface ExecutionRecord {
  /** Increases with every execution (newest has the highest). */
  seq: number;
  name: string;
  flowName: string;
  definition: string;
  input: string;
  status: ExecutionStatusName;
  startedAt: number;
  stoppedAt?: number;
  output?: string;
  error?: ErrorInfo;
  /** History events, when the window keeps them (recorded as the execution runs). */
  history?: HistoryLog;
  /** Called once when the execution ends (long-polling DescribeExecution). */
  waiters?: (() => void)[];
}

export interface Page<T> {
  items: T[];
  /** Absent on the last page. */
  nextToken?: string;
}
