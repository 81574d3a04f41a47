/** A plan that cannot be used. `issues` name the field and the problem, one per line. */
export class PlanError extends Error {
  readonly issues: readonly string[];

  constructor(issues: readonly string[], options?: ErrorOptions) {
    super(`invalid plan: ${issues.join('; ')}`, options);
    this.name = 'PlanError';
    this.issues = issues;
  }
}
