import { errorMessage } from '../core/analyze.ts';
import { SettingError } from '../runtime/settings.ts';
import { PlanError } from '../spec/errors.ts';

/**
 * The gate layer's errors: one for an event, one for a configuration, one for carried state. Every trigger
 * uses these; none writes its own copy. Each takes `{ cause }` (ES2022 error cause).
 */

/**
 * An event from which nothing can be identified to answer (no hook ids, no deployment id, no service):
 * there is nobody to report a verdict to. The message says what is missing, for the log.
 */
export class GateEventError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'GateEventError';
  }
}

/**
 * A setting or a plan that cannot work with this deployment (a schedule longer than its wait, a missing
 * durable function): a Failed verdict whose reason is this message.
 */
export class GateConfigError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'GateConfigError';
  }
}

/**
 * A carried state (ECS hookDetails) that cannot be used: forged, altered, expired,
 * from another deployment or plan. The verdict fails, closed, with this reason.
 */
export class StateError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StateError';
  }
}

/** The reason a Failed verdict gives for an error: a known fault says itself; anything else is named as such. */
export function reasonOf(error: unknown): string {
  const known =
    error instanceof PlanError ||
    error instanceof SettingError ||
    error instanceof StateError ||
    error instanceof GateConfigError;
  return known ? (error as Error).message : `could not validate: ${errorMessage(error)}`;
}
