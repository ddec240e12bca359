/**
 * flowrun's history event types mapped onto the event type names of the FnF API's
 * GetExecutionHistory (an exhaustive table: a new event type fails to compile until mapped).
 * Shared by the express window (src/fnf) and durable executions (src/executions).
 */
import type { HistoryEventType } from './types.js';

/** The event `Type` values GetExecutionHistory may return (cloudflow.md §4.2). */
export const API_EVENT_TYPES = [
  'StepEntered',
  'StepStarted',
  'StepSucceeded',
  'StepFailed',
  'StepExited',
  'BranchEntered',
  'BranchExited',
  'IterationEntered',
  'IterationExited',
  'TaskScheduled',
  'TaskStarted',
  'TaskSubmitted',
  'TaskSubmitFailed',
  'TaskSucceeded',
  'TaskFailed',
  'TaskTimedOut',
  'ExecutionStarted',
  'ExecutionStopped',
  'ExecutionSucceeded',
  'ExecutionFailed',
  'ExecutionTimedOut',
] as const;

export type ApiEventType = (typeof API_EVENT_TYPES)[number];

/**
 * flowrun event type → API event type. Three flowrun events have no API counterpart; they are
 * shown as the nearest API type and keep their own name in `EventDetail.Event`:
 * StepRetrying → StepStarted (the step starts again), StepCaught → StepExited (the step hands
 * over to its Catch target), WaitStarted → StepStarted (a Wait state starts waiting).
 */
export const API_EVENT_TYPE: { readonly [T in HistoryEventType]: ApiEventType } = {
  ExecutionStarted: 'ExecutionStarted',
  ExecutionSucceeded: 'ExecutionSucceeded',
  ExecutionFailed: 'ExecutionFailed',
  ExecutionTimedOut: 'ExecutionTimedOut',
  ExecutionStopped: 'ExecutionStopped',
  StepEntered: 'StepEntered',
  StepSucceeded: 'StepSucceeded',
  StepFailed: 'StepFailed',
  StepRetrying: 'StepStarted',
  StepCaught: 'StepExited',
  BranchEntered: 'BranchEntered',
  BranchExited: 'BranchExited',
  IterationEntered: 'IterationEntered',
  IterationExited: 'IterationExited',
  TaskScheduled: 'TaskScheduled',
  TaskSucceeded: 'TaskSucceeded',
  TaskFailed: 'TaskFailed',
  TaskTimedOut: 'TaskTimedOut',
  WaitStarted: 'StepStarted',
};
