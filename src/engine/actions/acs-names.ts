/**
 * Names shared by the OOS actions (./acs.ts) and the OOS template compiler (src/oos): engine
 * action names, the error names actions raise, and the high-risk API rule. No dependencies.
 */

export const AcsActions = {
  ExecuteAPI: 'ACS::ExecuteAPI',
  WaitFor: 'ACS::WaitFor',
  CheckFor: 'ACS::CheckFor',
  Approve: 'ACS::Approve',
  Pause: 'ACS::Pause',
  Notify: 'ACS::Notify',
  Template: 'ACS::Template',
  SelectTargets: 'ACS::SelectTargets',
  RunCommand: 'ACS::ECS::RunCommand',
  TimerTrigger: 'ACS::TimerTrigger',
  EventTrigger: 'ACS::EventTrigger',
  AlarmTrigger: 'ACS::AlarmTrigger',
} as const;

/** Error names raised by the OOS actions (Retries and OnError match them). */
export const AcsErrorNames = {
  /** WaitFor: the selected value is not (yet) desired. Retryable: the task's Retries poll again. */
  WaitForNotReady: 'OOS.WaitFor.NotReady',
  /** WaitFor: the selected value is a StopRetryValue; polling stops (never retried). */
  WaitForStopped: 'OOS.WaitFor.Stopped',
  /** CheckFor: the selected value does not match. */
  CheckForFailed: 'OOS.CheckFor.Failed',
  /** A Service/API call has no adapter and no fixture answers it. */
  FixtureNotFound: 'OOS.FixtureNotFound',
  /** A fixture answered with an error (its own Code is used when it gives one). */
  FixtureError: 'OOS.FixtureError',
  /** SelectTargets/RunCommand: a resource is not in the local inventory. */
  TargetNotFound: 'OOS.TargetNotFound',
  /** RunCommand: the local command runner is off (the default). */
  CommandRunnerDisabled: 'OOS.CommandRunnerDisabled',
  /** RunCommand: the command exited with a non-zero code or could not start. */
  CommandFailed: 'OOS.CommandFailed',
  /** ACS::Template / product actions: no child-template runner and no fixture for the template. */
  TemplateUnavailable: 'OOS.TemplateUnavailable',
  /** ACS::Template: the child execution did not succeed. */
  ChildExecutionFailed: 'OOS.ChildExecutionFailed',
  /** Parameters an action cannot use (found at run time). */
  InvalidParameters: 'OOS.InvalidParameters',
  /** Approve: rejected (the lifecycle layer ends the execution Cancelled). */
  Rejected: 'OOS.Rejected',
} as const;

/** Default rule for high-risk API names (oos.md §3.3): irrevocable operations. */
export const DEFAULT_HIGH_RISK_API_PATTERN = /^(Delete|Release|Stop|Reboot|Reset|ReInit|Replace|Remove|Detach|Unassociate)/;

/** Whether an API (or product action such as `ACS::ECS::DeleteInstance`) is high-risk under `pattern`. */
export function isHighRiskApi(api: string, pattern: RegExp = DEFAULT_HIGH_RISK_API_PATTERN): boolean {
  const name = api.includes('::') ? (api.split('::').pop() ?? api) : api;
  return pattern.test(name);
}
