import type { Clock, Measure } from '../core/types.ts';
import type { Fields } from '../spec/fields.ts';
import type { DeploymentContext } from '../spec/placeholders.ts';
import type { BodyBudget } from './body-budget.ts';
import type { Egress } from './egress.ts';
import type { LambdaInvokePort } from './lambda-invoke.ts';
import type { CloudWatchPort, EcsChecksPort } from './ports.ts';
import type { SigV4Port } from './prometheus.ts';
import type { Lookup } from './resolve.ts';
import type { SecretPort } from './secrets.ts';
import type { TargetHealthPort } from './target-health.ts';

/** What checks may use. Adapters behind small ports; tests wire fakes. */
export interface CheckDeps {
  readonly clock: Clock;
  /** How probes resolve host names; DNS when absent. */
  readonly lookup?: Lookup | undefined;
  /** GREENLIGHT_RESOLVE: names sent to an address the operator chose, exempt from the address rules. */
  readonly pinned?: ReadonlyMap<string, string> | undefined;
  /** Where this check's probes may go: the plan's `allow` and the deployment's listener hosts (set by buildRuns). */
  readonly egress?: Egress | undefined;
  /** Response-body memory shared by every check of one invocation (set by buildRuns). */
  readonly bodyBudget?: BodyBudget | undefined;
  /** Reads the values of the plan's `secrets`. */
  readonly secrets?: SecretPort | undefined;
  /** ecs-service, ecs-tasks. */
  readonly ecs?: EcsChecksPort | undefined;
  /** target-health. */
  readonly targetHealth?: TargetHealthPort | undefined;
  /** cloudwatch-alarms, cloudwatch-metric. */
  readonly cloudwatch?: CloudWatchPort | undefined;
  /** lambda-invoke. */
  readonly lambda?: LambdaInvokePort | undefined;
  /** prometheus, for Amazon Managed Service for Prometheus (SigV4 with the function's role). */
  readonly sigv4?: SigV4Port | undefined;
}

/**
 * One kind of check: how its plan fields are read, and how a measurement is made.
 * `parse` sees the fields with `{{placeholders}}` still in them; `create` sees them filled
 * and may throw a `PlanError` for a value that only becomes invalid once filled (a URL).
 */
export interface CheckKind<Spec> {
  /** The fields this kind adds to the common ones (type, count, interval, ...). */
  readonly fields: readonly string[];
  parse(raw: Record<string, unknown>, path: string, f: Fields): Spec | undefined;
  /**
   * Optional: adjusts a spec to the deployment before its placeholders are filled, for defaults that
   * depend on the trigger (a CodeDeploy green task set, or an ECS native target revision), or to fill a
   * query's placeholders escaped for its language. May throw a `PlanError` naming a field under `path`.
   */
  prepare?(spec: Spec, context: DeploymentContext, path: string): Spec;
  /**
   * Optional: the most response-body bytes one measurement holds in memory at once (0 or absent: none
   * beyond the SDK's small answers). Plan validation sums it over a hook's checks against the function's
   * memory (lib/checks/body-budget.ts).
   */
  bufferedBodyBytes?(spec: Spec): number;
  create(spec: Spec, deps: CheckDeps, path: string): Measure;
}
