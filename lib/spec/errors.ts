/** A plan that cannot be used. `issues` name the field and the problem, one per line. */
export class PlanError extends Error {
  readonly issues: readonly string[];

  constructor(issues: readonly string[], options?: ErrorOptions) {
    super(`invalid plan: ${issues.join('; ')}`, options);
    this.name = 'PlanError';
    this.issues = issues;
  }
}

/**
 * An AWS read still throttled when its time ran out (the measurement's timeout, or the hook's deadline):
 * throttling is AWS's answer, so the read was retried with backoff until then. `operation` is
 * `<service> <API>`, e.g. `ECS DescribeServices`.
 */
export class ThrottledError extends Error {
  readonly operation: string;
  /** From the first throttled attempt to giving up, milliseconds. */
  readonly throttledMs: number;
  readonly throttles: number;

  constructor(operation: string, throttledMs: number, throttles: number, options?: ErrorOptions) {
    super(`throttled by AWS (${operation}) for ${(throttledMs / 1000).toFixed(1)} s`, options);
    this.name = 'ThrottledError';
    this.operation = operation;
    this.throttledMs = throttledMs;
    this.throttles = throttles;
  }
}
